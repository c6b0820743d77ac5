//! ListSecrets and BatchGetSecretValue: filters, sort orders and sealed page tokens.
//!
//! A page is read from the store in the order of an index (sort key, then id) starting after
//! the position its token carries, so secrets created or deleted between pages never make
//! others skipped or repeated. Filters are applied to what the store returns; a page scans at
//! most [`SCAN_BUDGET`] secrets, and when the filters match too few of them it ends early with
//! a token to go on from there (as AWS may return short pages), so the cost of a page never
//! grows with the number of secrets stored.

use serde::{Deserialize, Serialize};

use super::model::{AWSCURRENT, Secret};
use super::validate::checked_secret_id;
use super::{Service, secret::metadata_of, versions_to_stages};
use crate::auth::Principal;
use crate::protocol::types::{
    ApiErrorEntry, BatchGetSecretValueInput, BatchGetSecretValueOutput, Filter, ListSecretsInput,
    ListSecretsOutput, SecretListEntry, SecretValueEntry,
};
use crate::protocol::{ApiError, ErrorCode};
use crate::store::{ListPosition, ListQuery, SortKey};

const GET_SECRET_VALUE: &str = "secretsmanager:GetSecretValue";
const LIST_SECRETS: &str = "secretsmanager:ListSecrets";

/// Most secrets one page looks at, matched or not.
const SCAN_BUDGET: usize = 1000;
/// Secrets read from the store at a time while filtering.
const CHUNK: usize = 100;
const LIST_PAGE_DEFAULT: usize = 100;
const BATCH_PAGE_DEFAULT: usize = 20;
/// Most filter values, across all filters, of one BatchGetSecretValue.
const MAX_BATCH_FILTER_VALUES: usize = 10;

/// A filter, parsed: the attribute it looks at and its values (OR-ed), each maybe negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFilter {
    pub key: FilterKey,
    pub values: Vec<FilterValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKey {
    Name,
    Description,
    TagKey,
    TagValue,
    PrimaryRegion,
    OwningService,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterValue {
    pub negated: bool,
    pub text: String,
}

impl FilterKey {
    fn parse(key: &str) -> Option<FilterKey> {
        Some(match key {
            "name" => FilterKey::Name,
            "description" => FilterKey::Description,
            "tag-key" => FilterKey::TagKey,
            "tag-value" => FilterKey::TagValue,
            "primary-region" => FilterKey::PrimaryRegion,
            "owning-service" => FilterKey::OwningService,
            "all" => FilterKey::All,
            _ => return None,
        })
    }
}

/// Reads the `Filters` of a request (their syntax was checked against the model already).
pub fn parse_filters(filters: Option<Vec<Filter>>) -> Result<Vec<SecretFilter>, ApiError> {
    let mut parsed = Vec::new();
    for filter in filters.into_iter().flatten() {
        let name = filter.key.unwrap_or_default();
        let key = FilterKey::parse(&name).ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidParameterException, "Invalid filter key")
        })?;
        let values = filter.values.unwrap_or_default();
        if values.is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                format!("Invalid filter values for key: {name}"),
            ));
        }
        let values = values
            .into_iter()
            .map(|value| match value.strip_prefix('!') {
                Some(rest) => FilterValue {
                    negated: true,
                    text: rest.to_owned(),
                },
                None => FilterValue {
                    negated: false,
                    text: value,
                },
            })
            .collect();
        parsed.push(SecretFilter { key, values });
    }
    Ok(parsed)
}

/// Whether a secret passes every filter (filters are AND-ed, the values of one filter OR-ed).
pub fn matches_all(secret: &Secret, filters: &[SecretFilter]) -> bool {
    filters.iter().all(|filter| matches(secret, filter))
}

fn matches(secret: &Secret, filter: &SecretFilter) -> bool {
    let attributes = attributes(secret, filter.key);
    filter.values.iter().any(|value| {
        let found = attributes
            .iter()
            .any(|attribute| value_matches(filter.key, &value.text, attribute));
        found != value.negated
    })
}

/// The strings of a secret a filter key looks at.
fn attributes(secret: &Secret, key: FilterKey) -> Vec<&str> {
    let tags = secret.tags.iter().flatten();
    match key {
        FilterKey::Name => vec![secret.name.as_str()],
        FilterKey::Description => secret.description.as_deref().into_iter().collect(),
        FilterKey::TagKey => tags.map(|tag| tag.key.as_str()).collect(),
        FilterKey::TagValue => tags.map(|tag| tag.value.as_str()).collect(),
        FilterKey::PrimaryRegion => primary_region(secret).into_iter().collect(),
        FilterKey::OwningService => owning_service(secret).into_iter().collect(),
        FilterKey::All => {
            let mut all = vec![secret.name.as_str()];
            all.extend(secret.description.as_deref());
            for tag in tags {
                all.push(tag.key.as_str());
                all.push(tag.value.as_str());
            }
            all
        }
    }
}

/// The tag by which an AWS service marks a secret it manages.
const OWNING_SERVICE_TAG: &str = "aws:secretsmanager:owningService";

/// The AWS service that manages a secret, if any.
pub fn owning_service(secret: &Secret) -> Option<&str> {
    secret
        .tags
        .iter()
        .flatten()
        .find(|tag| tag.key == OWNING_SERVICE_TAG)
        .map(|tag| tag.value.as_str())
}

/// The region of the primary, for a secret that is replicated or is a replica.
pub fn primary_region(secret: &Secret) -> Option<&str> {
    (secret.replica_view.is_some() || !secret.replicas.is_empty())
        .then_some(secret.scope.region.as_str())
}

fn value_matches(key: FilterKey, pattern: &str, attribute: &str) -> bool {
    match key {
        FilterKey::Description | FilterKey::All | FilterKey::OwningService => {
            // Every word of the value must begin a word of the same attribute.
            let attribute_words = words(attribute);
            let pattern_words = words(pattern);
            !pattern_words.is_empty()
                && pattern_words.iter().all(|word| {
                    attribute_words
                        .iter()
                        .any(|candidate| starts_with_ignoring_case(candidate, word))
                })
        }
        FilterKey::Name | FilterKey::TagKey | FilterKey::TagValue | FilterKey::PrimaryRegion => {
            attribute.starts_with(pattern)
        }
    }
}

/// Separators that split the words of names and tags.
const SEPARATORS: &str = "/-_+=.@";

/// Splits text into the words that word filters match, as AWS splits them: at white space;
/// at a separator (`/-_+=.@`) when the text uses only one kind of them; and before each
/// capital or digit that starts a run of lowercase letters (`MyTestPhrase` is `My`, `Test`,
/// `Phrase`; `COMPANYthings` is `COMPAN`, `Ythings`; `abcDEF` stays whole). A separator alone
/// is no word.
fn words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for part in text.split_whitespace() {
        let mut kinds: Vec<char> = part.chars().filter(|c| SEPARATORS.contains(*c)).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let pieces: Vec<&str> = match kinds.as_slice() {
            [separator] => part.split(*separator).collect(),
            _ => vec![part],
        };
        for piece in pieces.into_iter().filter(|piece| !piece.is_empty()) {
            split_case(piece, &mut words);
        }
    }
    words
}

/// Splits out every run of lowercase letters together with the character before it, when
/// that character is not a lowercase letter; the text between such runs stays whole.
fn split_case<'a>(piece: &'a str, words: &mut Vec<&'a str>) {
    let bytes = piece.as_bytes();
    let (mut gap_start, mut index) = (0, 0);
    while index < bytes.len() {
        let starts_run = !bytes[index].is_ascii_lowercase()
            && piece.is_char_boundary(index)
            && bytes.get(index + 1).is_some_and(u8::is_ascii_lowercase);
        if !starts_run {
            index += 1;
            continue;
        }
        let mut end = index + 1;
        while bytes.get(end).is_some_and(u8::is_ascii_lowercase) {
            end += 1;
        }
        if gap_start < index {
            words.push(&piece[gap_start..index]);
        }
        words.push(&piece[index..end]);
        gap_start = end;
        index = end;
    }
    if gap_start < bytes.len() {
        words.push(&piece[gap_start..]);
    }
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// What a page token of a listing carries.
#[derive(Debug, Serialize, Deserialize)]
struct Resume {
    after: ListPosition,
}

/// One listing: what to list and in which order.
struct Listing {
    query: ListQuery,
    filters: Vec<SecretFilter>,
    /// Identifies the listing in its page tokens.
    fingerprint: String,
}

impl Service {
    /// Reads one page of a listing: up to `page_size` matching secrets and the token of the
    /// next page.
    async fn list_page(
        &self,
        mut listing: Listing,
        next_token: Option<&str>,
        page_size: usize,
    ) -> Result<(Vec<Secret>, Option<String>), ApiError> {
        let sealer = self.sealer().await?;
        if let Some(token) = next_token {
            let resume: Resume = sealer.open(&listing.fingerprint, token)?;
            listing.query.after = Some(resume.after);
        }
        let mut page = Vec::new();
        let mut last_taken: Option<ListPosition> = None;
        let mut scanned = 0;
        let unfiltered = listing.filters.is_empty();
        loop {
            // One more than the page needs tells whether there is a next page.
            listing.query.limit = if unfiltered {
                page_size + 1 - page.len()
            } else {
                CHUNK
            };
            let chunk = self.store.list(&listing.query).await?;
            let exhausted = chunk.len() < listing.query.limit;
            for (position, secret) in chunk {
                scanned += 1;
                listing.query.after = Some(position.clone());
                if !matches_all(&secret, &listing.filters) {
                    continue;
                }
                if page.len() == page_size {
                    // A match beyond the page: there is a next page, after the last one taken.
                    let after = last_taken.unwrap_or(position);
                    let token = sealer.seal(&listing.fingerprint, &Resume { after })?;
                    return Ok((page, Some(token)));
                }
                page.push(secret);
                last_taken = Some(position);
            }
            if exhausted {
                return Ok((page, None));
            }
            if scanned >= SCAN_BUDGET {
                // Stop here; the next page goes on from the last secret looked at.
                let Some(after) = listing.query.after.clone() else {
                    return Ok((page, None));
                };
                let token = sealer.seal(&listing.fingerprint, &Resume { after })?;
                return Ok((page, Some(token)));
            }
        }
    }

    pub async fn list_secrets(
        &self,
        principal: &Principal,
        input: ListSecretsInput,
    ) -> Result<ListSecretsOutput, ApiError> {
        // On `*`, and the listing is not filtered by what the caller may do with each secret
        // (the API reference: "Required permissions: secretsmanager:ListSecrets").
        self.authorize_call(principal, "*")?;
        let filters = parse_filters(input.filters)?;
        let sort = match input.sort_by.as_deref() {
            Some("last-accessed-date") => SortKey::LastAccessedDate,
            Some("last-changed-date") => SortKey::LastChangedDate,
            Some("name") => SortKey::Name,
            _ => SortKey::CreatedDate,
        };
        let descending = input.sort_order.as_deref() == Some("desc");
        let include_pending_deletion = input.include_planned_deletion.unwrap_or(false);
        let listing = Listing {
            fingerprint: format!(
                "list-secrets|{}|{}|{:?}|{descending}|{include_pending_deletion}|{:?}",
                principal.scope.account_id, principal.scope.region, sort, filters
            ),
            query: ListQuery {
                scope: principal.scope.clone(),
                include_pending_deletion,
                sort,
                descending,
                after: None,
                limit: 0,
            },
            filters,
        };
        let page_size = page_size(input.max_results, LIST_PAGE_DEFAULT);
        let (secrets, next_token) = self
            .list_page(listing, input.next_token.as_deref(), page_size)
            .await?;
        let secret_list = secrets
            .into_iter()
            .map(|secret| {
                let stages = versions_to_stages(&secret);
                SecretListEntry {
                    metadata: metadata_of(&secret),
                    secret_versions_to_stages: Some(stages),
                }
            })
            .collect();
        Ok(ListSecretsOutput {
            secret_list,
            next_token,
        })
    }

    pub async fn batch_get_secret_value(
        &self,
        principal: &Principal,
        input: BatchGetSecretValueInput,
    ) -> Result<BatchGetSecretValueOutput, ApiError> {
        // The API reference: "Required permissions: secretsmanager:BatchGetSecretValue, and you
        // must have secretsmanager:GetSecretValue for each secret. If you use filters, you must
        // also have secretsmanager:ListSecrets. If the secrets are encrypted using
        // customer-managed keys [...] you also need kms:Decrypt permissions for the keys."
        // Each secret the caller may not read is an `AccessDeniedException` in `Errors`.
        self.authorize_call(principal, "*")?;
        if input.filters.is_some() {
            self.authorize_resource(principal, LIST_SECRETS, "*")?;
        }
        match (input.secret_id_list, input.filters) {
            (Some(_), Some(_)) => Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
            )),
            (None, None) => Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                "Either 'SecretIdList' or 'Filters' must be provided.",
            )),
            (Some(ids), None) => {
                if input.max_results.is_some() {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterException,
                        "'Filters' not specified. 'Filters' must also be specified when \
                         'MaxResults' is provided.",
                    ));
                }
                let mut output = BatchGetSecretValueOutput::default();
                for id in ids {
                    let result = async {
                        let secret_id = checked_secret_id(Some(id.clone()))?;
                        let secret = self
                            .find_for(principal, GET_SECRET_VALUE, &secret_id)
                            .await?;
                        if secret.is_pending_deletion() {
                            return Err(ApiError::new(
                                ErrorCode::InvalidRequestException,
                                "You tried to perform the operation on a secret that's currently \
                                 marked deleted.",
                            ));
                        }
                        self.current_value(principal, &secret).await
                    }
                    .await;
                    match result {
                        Ok(entry) => output.secret_values.push(entry),
                        Err(error) if error.code() == ErrorCode::InternalServiceError => {
                            return Err(error);
                        }
                        Err(error) => output.errors.push(ApiErrorEntry {
                            secret_id: id,
                            error_code: error.code().as_str().to_owned(),
                            message: error.message().to_owned(),
                        }),
                    }
                }
                Ok(output)
            }
            (None, Some(filters)) => {
                let values: usize = filters
                    .iter()
                    .map(|filter| filter.values.as_ref().map_or(0, Vec::len))
                    .sum();
                if values > MAX_BATCH_FILTER_VALUES {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterException,
                        "The filter list has too many filters. You can include up to 10 filters.",
                    ));
                }
                let filters = parse_filters(Some(filters))?;
                let listing = Listing {
                    fingerprint: format!(
                        "batch-get|{}|{}|{:?}",
                        principal.scope.account_id, principal.scope.region, filters
                    ),
                    query: ListQuery {
                        scope: principal.scope.clone(),
                        include_pending_deletion: false,
                        sort: SortKey::CreatedDate,
                        descending: false,
                        after: None,
                        limit: 0,
                    },
                    filters,
                };
                let page_size = page_size(input.max_results, BATCH_PAGE_DEFAULT);
                let (secrets, next_token) = self
                    .list_page(listing, input.next_token.as_deref(), page_size)
                    .await?;
                let mut output = BatchGetSecretValueOutput {
                    next_token,
                    ..Default::default()
                };
                for secret in secrets {
                    let value = match self.authorize_secret(principal, GET_SECRET_VALUE, &secret) {
                        Ok(()) => self.current_value(principal, &secret).await,
                        Err(denied) => Err(denied),
                    };
                    match value {
                        Ok(entry) => output.secret_values.push(entry),
                        Err(error) if error.code() == ErrorCode::InternalServiceError => {
                            return Err(error);
                        }
                        Err(error) => output.errors.push(ApiErrorEntry {
                            secret_id: secret.visible_arn().to_owned(),
                            error_code: error.code().as_str().to_owned(),
                            message: error.message().to_owned(),
                        }),
                    }
                }
                Ok(output)
            }
        }
    }

    /// The `AWSCURRENT` value of a secret, as BatchGetSecretValue lists it.
    async fn current_value(
        &self,
        principal: &Principal,
        secret: &Secret,
    ) -> Result<SecretValueEntry, ApiError> {
        let version = secret.holder_of(AWSCURRENT).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFoundException,
                "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
            )
        })?;
        self.read_version(principal, secret, version).await
    }
}

fn page_size(max_results: Option<i64>, default: usize) -> usize {
    max_results
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_as_aws_splits_them() {
        assert_eq!(words("MyTestPhrase"), ["My", "Test", "Phrase"]);
        assert_eq!(words("COMPANYthings"), ["COMPAN", "Ythings"]);
        assert_eq!(words("abcDEF"), ["abcDEF"]);
        assert_eq!(words("a1b2c3"), ["a", "1b", "2c", "3"]);
        assert_eq!(words("prod/AppBeta/x1"), ["prod", "App", "Beta", "x1"]);
        assert_eq!(words("one two"), ["one", "two"]);
        assert_eq!(words("+"), Vec::<&str>::new());
        // Two kinds of separators: no split at them.
        assert_eq!(words("testing1/one-123"), ["testing1", "/one", "-123"]);
        assert_eq!(words("é1a"), ["é", "1a"]);
    }

    fn all_matches(pattern: &str, attribute: &str) -> bool {
        value_matches(FilterKey::All, pattern, attribute)
    }

    #[test]
    fn word_filters_match_word_prefixes_ignoring_case() {
        assert!(all_matches("AppBeta", "prod@AppBeta@a1b2c3"));
        assert!(all_matches("beta", "prod=AppBeta=a1b2c3"));
        assert!(all_matches("a1b2c3", "prod.AppBeta.a1b2c3"));
        assert!(!all_matches("+", "prod+AppBeta+a1b2c3"));
        assert!(all_matches("company", "uat/COMPANY/x"));
        assert!(!all_matches("things", "uat/COMPANYthings/x"));
        assert!(all_matches("Ythings", "uat/COMPANYthings/x"));
        assert!(!all_matches("pany", "uat/COMPANY/x"));
        assert!(!all_matches("ret", "Thirdsecret1a"));
        assert!(all_matches("sec", "SecretOne1a"));
        let description = |p: &str, d: &str| value_matches(FilterKey::Description, p, d);
        assert!(description("a", "an secret"));
        assert!(description("a", "asecret"));
        assert!(!description("a", "thesecret"));
        assert!(description("a secret", "an secret"));
        assert!(!description("a secret", "asecret"));
        assert!(description("O T", "one and two"));
    }

    #[test]
    fn prefix_filters_are_case_sensitive_prefixes_of_the_whole_string() {
        assert!(value_matches(FilterKey::Name, "/", "/testing2/two"));
        assert!(!value_matches(FilterKey::Name, "/", "testing1/one"));
        assert!(!value_matches(FilterKey::Name, "data", "DatabaseSecret"));
        assert!(value_matches(FilterKey::TagKey, "Prod", "Production"));
        assert!(!value_matches(FilterKey::TagKey, "Prod", "prod"));
    }
}
