//! AWS IAM Identity Center clients (sso-admin + identitystore).
//!
//! All calls of a provider process share one [`ServiceLimits`]: a pacer for the 20 TPS the Identity Center
//! APIs share, a semaphore for the 10 outstanding asynchronous assignment operations, and counters.
//! Calls are retried by our own loop ([`retry`]) with full-jitter backoff up to a deadline the caller
//! passes; the SDK's built-in retries are disabled so that every attempt is paced.

mod access_control;
mod assignments;
mod error;
mod group_members;
mod identity_center;
mod identitystore;
mod identitystore_users;
mod limits;
mod organizations;
pub mod retry;
mod settings;
mod status_poller;

#[cfg(test)]
mod moto;

pub use access_control::{AccessControlAttribute, AccessControlConfiguration};
pub use assignments::{
    AssignmentApi, AssignmentCache, AssignmentEngine, AssignmentOutcome, AssignmentTarget,
    AsyncOperation, AsyncStatus, Page, Principal, PrincipalType, SdkAssignmentApi,
};
pub use error::{AwsError, Error, ErrorKind};
pub use identity_center::{
    ASSIGNMENT_CACHE_TTL, CustomerManagedPolicyRef, DEFAULT_SESSION_DURATION, IdentityCenter,
    Instance, ManagedPolicy, NewPermissionSet, PermissionSet, PermissionSetUpdate,
    PermissionsBoundary,
};
pub use identitystore::{ExternalId, Group, GroupMatcher, User, UserMatcher};
pub use limits::{
    AssignmentSlot, Counters, CountersSnapshot, IDENTITY_CENTER_TPS,
    MAX_OUTSTANDING_ASSIGNMENT_OPERATIONS, RateLimiter, ServiceLimits,
};
pub use organizations::{OrganizationAccount, Organizations};
pub use retry::{Conflicts, Deadline, PollPolicy, RetryPolicy};
pub use settings::{AssumeRoleSettings, AwsSettings, LazyIdentityCenter};
pub use status_poller::{ListedStatus, OperationKind};
