#!/usr/bin/env python3
"""Peak resident memory of the provider process during a small real `terraform apply`.

Builds nothing: pass the provider binary (default target/release/terraform-provider-idbridge). Applies
examples/saml-metadata through dev_overrides in a scratch directory while polling /proc for our provider process
and reading its VmHWM (the kernel's high-water mark of resident memory). Prints numbers; asserts nothing.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def peak_rss_kib(binary, stop, result):
    real = os.path.realpath(binary)
    while not stop.is_set():
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.path.realpath(f"/proc/{pid}/exe") != real:
                    continue
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            result[pid] = max(result.get(pid, 0), int(line.split()[1]))
            except OSError:
                pass  # the process ended between listing and reading
        time.sleep(0.005)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "target/release/terraform-provider-idbridge")
    tools = os.environ.get("IDBRIDGE_TOOLS_DIR", os.path.join(REPO, ".tools"))
    terraform = os.environ.get("TF_ACC_TERRAFORM_PATH", os.path.join(tools, "bin/terraform"))
    work = tempfile.mkdtemp(prefix="idbridge-rss-")
    try:
        shutil.copytree(os.path.join(REPO, "examples/saml-metadata"), os.path.join(work, "config"))
        rc = os.path.join(work, "terraformrc")
        with open(rc, "w") as out:
            out.write('provider_installation {\n  dev_overrides {\n'
                      f'    "registry.terraform.io/idbridge/idbridge" = "{os.path.dirname(os.path.abspath(binary))}"\n'
                      '  }\n  direct {}\n}\n')
        env = dict(os.environ, TF_CLI_CONFIG_FILE=rc, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
        stop, peaks = threading.Event(), {}
        poller = threading.Thread(target=peak_rss_kib, args=(binary, stop, peaks))
        poller.start()
        started = time.monotonic()
        subprocess.run([terraform, f"-chdir={work}/config", "apply", "-auto-approve", "-input=false", "-no-color"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        elapsed = time.monotonic() - started
        stop.set()
        poller.join()
        size = os.path.getsize(binary) / 1e6
        peak = max(peaks.values(), default=0) / 1024
        print(f"small apply (examples/saml-metadata): {elapsed * 1000:.0f} ms wall, "
              f"{len(peaks)} provider processes seen")
        print(f"provider peak RSS: {peak:.1f} MB (target < 30 MB)")
        print(f"release binary size: {size:.2f} MB (target < 25 MB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
