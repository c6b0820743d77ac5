//! TagResource and UntagResource.

use super::model::{Secret, Tag};
use super::validate::checked_secret_id;
use super::{Attempt, Service, retry_on_conflict};
use crate::auth::Principal;
use crate::protocol::types::{EmptyOutput, TagResourceInput, UntagResourceInput};
use crate::protocol::{ApiError, ErrorCode};

/// Most tags on one secret.
pub const MAX_TAGS: usize = 50;
/// Tag keys with this prefix belong to AWS.
const RESERVED_PREFIX: &str = "aws:";

impl Service {
    pub async fn tag_resource(
        &self,
        principal: &Principal,
        input: TagResourceInput,
    ) -> Result<EmptyOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let tags: Vec<Tag> = input
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|tag| Tag {
                key: tag.key.unwrap_or_default(),
                value: tag.value.unwrap_or_default(),
            })
            .collect();
        check_tags(&tags)?;
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            let mut secret = before.clone();
            merge_tags(&mut secret, &tags)?;
            if secret != before && !self.save(&before, &secret, &[]).await? {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Done(EmptyOutput {}))
        })
    }

    pub async fn untag_resource(
        &self,
        principal: &Principal,
        input: UntagResourceInput,
    ) -> Result<EmptyOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let keys = input.tag_keys.unwrap_or_default();
        if let Some(key) = keys.iter().find(|key| is_reserved(key)) {
            return Err(system_tag(key));
        }
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            let mut secret = before.clone();
            // A secret never tagged stays so (AWS then shows no `Tags` at all).
            if let Some(tags) = secret.tags.as_mut() {
                tags.retain(|tag| !keys.contains(&tag.key));
            }
            if secret != before && !self.save(&before, &secret, &[]).await? {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Done(EmptyOutput {}))
        })
    }
}

fn is_reserved(key: &str) -> bool {
    key.len() >= RESERVED_PREFIX.len()
        && key[..RESERVED_PREFIX.len()].eq_ignore_ascii_case(RESERVED_PREFIX)
}

fn system_tag(key: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidParameterException,
        format!("You can't modify system tags. Tag key: '{key}'."),
    )
}

/// The tags that count against [`MAX_TAGS`]: system tags (`aws:`) do not.
fn user_tag_count(tags: &[Tag]) -> usize {
    tags.iter().filter(|tag| !is_reserved(&tag.key)).count()
}

/// The rules for the tags of a new secret. System tags are accepted there: AWS services that
/// create secrets for themselves mark them so (`aws:secretsmanager:owningService`).
pub fn check_new_tags(tags: &[Tag]) -> Result<(), ApiError> {
    if user_tag_count(tags) > MAX_TAGS {
        return Err(too_many_tags());
    }
    Ok(())
}

/// The rules for tags TagResource brings: system tags are not the caller's to change.
fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    if let Some(tag) = tags.iter().find(|tag| is_reserved(&tag.key)) {
        return Err(system_tag(&tag.key));
    }
    check_new_tags(tags)
}

fn too_many_tags() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidParameterException,
        format!("A secret can't have more than {MAX_TAGS} tags."),
    )
}

/// Adds `tags` to a secret's tags; a key it has already takes the new value.
fn merge_tags(secret: &mut Secret, tags: &[Tag]) -> Result<(), ApiError> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut merged = secret.tags.take().unwrap_or_default();
    for tag in tags {
        match merged.iter_mut().find(|existing| existing.key == tag.key) {
            Some(existing) => existing.value = tag.value.clone(),
            None => merged.push(tag.clone()),
        }
    }
    if user_tag_count(&merged) > MAX_TAGS {
        return Err(too_many_tags());
    }
    secret.tags = Some(merged);
    Ok(())
}
