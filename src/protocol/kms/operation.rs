//! The KMS operations Coffer answers, named as AWS names them, and how a request names one:
//! `X-Amz-Target: TrentService.<Operation>`.

const TARGET_PREFIX: &str = "TrentService.";

/// Declares the operations once: the enum, the list of all, and their names.
macro_rules! kms_operations {
    ($($name:ident),* $(,)?) => {
        /// One KMS operation (the symmetric-key subset of the 2014-11-01 API).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum KmsOperation {
            $($name,)*
        }

        impl KmsOperation {
            pub const ALL: &[KmsOperation] = &[$(KmsOperation::$name,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(KmsOperation::$name => stringify!($name),)*
                }
            }
        }
    };
}

kms_operations!(
    CancelKeyDeletion,
    CreateAlias,
    CreateKey,
    Decrypt,
    DeleteAlias,
    DescribeKey,
    DisableKey,
    DisableKeyRotation,
    EnableKey,
    EnableKeyRotation,
    Encrypt,
    GenerateDataKey,
    GenerateDataKeyWithoutPlaintext,
    GetKeyRotationStatus,
    ListAliases,
    ListKeys,
    ReEncrypt,
    RotateKeyOnDemand,
    ScheduleKeyDeletion,
    UpdateAlias,
);

impl KmsOperation {
    /// Reads the `X-Amz-Target` header's value: `None` unless it names a KMS operation Coffer
    /// answers (the caller then answers `UnknownOperationException`).
    pub fn from_target(target: Option<&str>) -> Option<KmsOperation> {
        let name = target?.strip_prefix(TARGET_PREFIX)?;
        KmsOperation::ALL
            .iter()
            .copied()
            .find(|op| op.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_round_trips_through_its_target() {
        assert_eq!(KmsOperation::ALL.len(), 20);
        for &operation in KmsOperation::ALL {
            let target = format!("{TARGET_PREFIX}{}", operation.name());
            assert_eq!(KmsOperation::from_target(Some(&target)), Some(operation));
        }
    }

    #[test]
    fn other_targets_are_not_kms_operations() {
        for target in [
            None,
            Some(""),
            Some("TrentService."),
            Some("TrentService.Sign"),
            Some("TrentService.encrypt"),
            Some("secretsmanager.Encrypt"),
            Some("Encrypt"),
        ] {
            assert_eq!(KmsOperation::from_target(target), None, "{target:?}");
        }
    }
}
