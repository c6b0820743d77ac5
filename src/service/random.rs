//! GetRandomPassword.

use super::Service;
use super::password::{PasswordOptions, generate};
use crate::auth::Principal;
use crate::protocol::ApiError;
use crate::protocol::types::{GetRandomPasswordInput, GetRandomPasswordOutput};

impl Service {
    pub async fn get_random_password(
        &self,
        principal: &Principal,
        input: GetRandomPasswordInput,
    ) -> Result<GetRandomPasswordOutput, ApiError> {
        self.authorize_call(principal, "*")?;
        let options = PasswordOptions {
            length: input.password_length,
            exclude_characters: input.exclude_characters,
            exclude_numbers: input.exclude_numbers.unwrap_or(false),
            exclude_punctuation: input.exclude_punctuation.unwrap_or(false),
            exclude_uppercase: input.exclude_uppercase.unwrap_or(false),
            exclude_lowercase: input.exclude_lowercase.unwrap_or(false),
            include_space: input.include_space.unwrap_or(false),
            require_each_included_type: input.require_each_included_type.unwrap_or(true),
        };
        let random_password =
            generate(&options).map_err(|error| ApiError::new(error.code(), error.to_string()))?;
        Ok(GetRandomPasswordOutput { random_password })
    }
}
