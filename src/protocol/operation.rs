//! The operations Coffer answers, named as AWS names them, and how a request names one:
//! `X-Amz-Target: secretsmanager.<Operation>`.

use super::{ApiError, ErrorCode};

const TARGET_PREFIX: &str = "secretsmanager.";

/// Declares the operations once: the enum, the list of all, and their names.
macro_rules! operations {
    ($($name:ident),* $(,)?) => {
        /// One Secrets Manager operation (all 23 of the 2017-10-17 API).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation {
            $($name,)*
        }

        impl Operation {
            pub const ALL: &[Operation] = &[$(Operation::$name,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name),)*
                }
            }
        }
    };
}

operations!(
    BatchGetSecretValue,
    CancelRotateSecret,
    CreateSecret,
    DeleteResourcePolicy,
    DeleteSecret,
    DescribeSecret,
    GetRandomPassword,
    GetResourcePolicy,
    GetSecretValue,
    ListSecretVersionIds,
    ListSecrets,
    PutResourcePolicy,
    PutSecretValue,
    RemoveRegionsFromReplication,
    ReplicateSecretToRegions,
    RestoreSecret,
    RotateSecret,
    StopReplicationToReplica,
    TagResource,
    UntagResource,
    UpdateSecret,
    UpdateSecretVersionStage,
    ValidateResourcePolicy,
);

impl Operation {
    /// Reads the `X-Amz-Target` header's value. A missing header, another service's prefix or
    /// an operation Coffer does not know are all `UnknownOperationException`, as AWS answers.
    pub fn from_target(target: Option<&str>) -> Result<Operation, ApiError> {
        let operation = target
            .and_then(|target| target.strip_prefix(TARGET_PREFIX))
            .and_then(|name| Operation::ALL.iter().copied().find(|op| op.name() == name));
        operation.ok_or_else(|| ApiError::new(ErrorCode::UnknownOperationException, ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_round_trips_through_its_target() {
        assert_eq!(Operation::ALL.len(), 23);
        for &operation in Operation::ALL {
            let target = format!("{TARGET_PREFIX}{}", operation.name());
            assert_eq!(Operation::from_target(Some(&target)).ok(), Some(operation));
        }
    }

    #[test]
    fn unknown_targets_are_unknown_operations() {
        for target in [
            None,
            Some(""),
            Some("secretsmanager."),
            Some("secretsmanager.DropDatabase"),
            Some("secretsmanager.getsecretvalue"),
            Some("TrentService.GetSecretValue"),
            Some("GetSecretValue"),
        ] {
            let error = Operation::from_target(target).err();
            assert_eq!(
                error.map(|e| e.code()),
                Some(ErrorCode::UnknownOperationException),
                "{target:?}"
            );
        }
    }
}
