fn main() {
    std::process::exit(idbridge::run());
}
