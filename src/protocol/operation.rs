//! The operations Coffer answers, named as AWS names them, and how a request names one:
//! `X-Amz-Target: secretsmanager.<Operation>`.

use super::{ApiError, ErrorCode};

const TARGET_PREFIX: &str = "secretsmanager.";

/// One Secrets Manager operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    CreateSecret,
    DeleteSecret,
    DescribeSecret,
    GetSecretValue,
    ListSecretVersionIds,
    PutSecretValue,
    RestoreSecret,
    UpdateSecret,
    UpdateSecretVersionStage,
}

impl Operation {
    const ALL: [Operation; 9] = [
        Operation::CreateSecret,
        Operation::DeleteSecret,
        Operation::DescribeSecret,
        Operation::GetSecretValue,
        Operation::ListSecretVersionIds,
        Operation::PutSecretValue,
        Operation::RestoreSecret,
        Operation::UpdateSecret,
        Operation::UpdateSecretVersionStage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operation::CreateSecret => "CreateSecret",
            Operation::DeleteSecret => "DeleteSecret",
            Operation::DescribeSecret => "DescribeSecret",
            Operation::GetSecretValue => "GetSecretValue",
            Operation::ListSecretVersionIds => "ListSecretVersionIds",
            Operation::PutSecretValue => "PutSecretValue",
            Operation::RestoreSecret => "RestoreSecret",
            Operation::UpdateSecret => "UpdateSecret",
            Operation::UpdateSecretVersionStage => "UpdateSecretVersionStage",
        }
    }

    /// Reads the `X-Amz-Target` header's value. A missing header, another service's prefix or
    /// an operation Coffer does not know are all `UnknownOperationException`, as AWS answers.
    pub fn from_target(target: Option<&str>) -> Result<Operation, ApiError> {
        let operation = target
            .and_then(|target| target.strip_prefix(TARGET_PREFIX))
            .and_then(|name| Operation::ALL.into_iter().find(|op| op.name() == name));
        operation.ok_or_else(|| ApiError::new(ErrorCode::UnknownOperationException, ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_round_trips_through_its_target() {
        for operation in Operation::ALL {
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
