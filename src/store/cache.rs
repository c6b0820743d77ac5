//! A read cache of secrets for a store whose every write goes through one connection of this
//! process (the embedded SQLite store): loaded aggregates and sealed values, dropped when a
//! committed write touches the rows they came from.
//!
//! Entries are grouped by *family*: a primary secret's id. A family's rows are the primary's
//! `secrets` row, its replicas' rows and its versions; an aggregate loaded through any of them
//! (by name or ARN, from the primary's region or a replica's) belongs to that family. The
//! writer reports the family of every row it inserts, updates or deletes (a pre-update hook on
//! its connection) and, once the transaction is over, calls [`SecretCache::invalidate`] before
//! answering any caller. So a read that starts after a write was acknowledged never finds what
//! the write replaced.
//!
//! A read that misses loads from the database and offers the result back with the
//! [`Ticket`] it took *before* reading: if any write was invalidated in between, the offer
//! is refused, because the read may have seen the database before that write's commit.
//!
//! Only sealed values are kept (ciphertext; plaintext never leaves `crypto`), and misses are
//! not cached, so a secret created later is found at once. The cache is bounded by an
//! estimate of its size in bytes; when full, arbitrary families are dropped.
//!
//! This holds for one process only: the PostgreSQL store, shared by several nodes, has no
//! such cache, and the server locks its data directory so that no second server writes the
//! same SQLite file (`coffer admin` and `coffer audit` write identities and read events only).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::service::model::{Secret, SecretId};
use crate::store::StoredValue;

/// The default bound: enough for tens of thousands of 1 KiB secrets and their current values.
pub const DEFAULT_BUDGET_BYTES: usize = 64 << 20;

pub struct SecretCache {
    /// Bumped (under `inner`'s lock) by every invalidation.
    generation: AtomicU64,
    inner: Mutex<Inner>,
    budget: usize,
}

/// What a read took before going to the database: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

#[derive(Default)]
struct Inner {
    families: HashMap<SecretId, Family>,
    /// `account \0 region \0 name` → (family, record).
    names: HashMap<String, (SecretId, SecretId)>,
    /// ARN → (family, record).
    arns: HashMap<String, (SecretId, SecretId)>,
    weight: usize,
}

#[derive(Default)]
struct Family {
    /// The aggregate as loaded through each record (the primary's own, a replica's).
    records: HashMap<SecretId, Secret>,
    /// Sealed values by version id.
    values: HashMap<String, StoredValue>,
    weight: usize,
}

/// The key of a name lookup. Names, regions and account ids never hold a NUL.
pub fn name_key(account_id: &str, region: &str, name: &str) -> String {
    let mut key = String::with_capacity(account_id.len() + region.len() + name.len() + 2);
    key.push_str(account_id);
    key.push('\0');
    key.push_str(region);
    key.push('\0');
    key.push_str(name);
    key
}

/// The record an aggregate was loaded through, and its name key and ARN.
fn lookups(secret: &Secret) -> (SecretId, String, &str) {
    match &secret.replica_view {
        Some(view) => (
            view.record,
            name_key(&secret.scope.account_id, &view.region, &secret.name),
            &view.arn,
        ),
        None => (
            secret.id,
            name_key(&secret.scope.account_id, &secret.scope.region, &secret.name),
            &secret.arn,
        ),
    }
}

/// An estimate of what an aggregate costs in memory, with its map entries.
fn weight_of(secret: &Secret) -> usize {
    let text = |text: &Option<String>| text.as_ref().map_or(0, String::len);
    let tags: usize = secret
        .tags
        .iter()
        .flatten()
        .map(|tag| tag.key.len() + tag.value.len() + 48)
        .sum();
    let versions: usize = secret
        .versions
        .iter()
        .map(|version| {
            std::mem::size_of_val(version)
                + version.id.len()
                + version
                    .stages
                    .iter()
                    .map(|stage| stage.len() + 24)
                    .sum::<usize>()
                + text(&version.kms_key_id)
        })
        .sum();
    std::mem::size_of::<Secret>()
        + 3 * (secret.name.len() + secret.arn.len())
        + text(&secret.description)
        + text(&secret.kms_key_id)
        + text(&secret.secret_type)
        + text(&secret.resource_policy)
        + tags
        + versions
        + secret.replicas.len() * 96
        + 256
}

fn value_weight(version_id: &str, value: &StoredValue) -> usize {
    version_id.len() + value.bytes.len() + 96
}

fn copy_value(value: &StoredValue) -> StoredValue {
    StoredValue {
        kind: value.kind,
        sealed: value.sealed,
        bytes: zeroize::Zeroizing::new(value.bytes.to_vec()),
    }
}

impl SecretCache {
    pub fn new(budget: usize) -> SecretCache {
        SecretCache {
            generation: AtomicU64::new(0),
            inner: Mutex::new(Inner::default()),
            budget,
        }
    }

    /// The maps, also after a panic elsewhere while they were held: they stay consistent
    /// enough to use, and refusing to invalidate would be worse.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// To take before reading the database for what may be offered back.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    pub fn by_name(&self, account_id: &str, region: &str, name: &str) -> Option<Secret> {
        let key = name_key(account_id, region, name);
        let inner = self.lock();
        let (family, record) = inner.names.get(&key)?;
        inner.families.get(family)?.records.get(record).cloned()
    }

    pub fn by_arn(&self, arn: &str) -> Option<Secret> {
        let inner = self.lock();
        let (family, record) = inner.arns.get(arn)?;
        inner.families.get(family)?.records.get(record).cloned()
    }

    /// The sealed value of `version_id` of the primary `family`, if kept.
    pub fn value(&self, family: SecretId, version_id: &str) -> Option<StoredValue> {
        let inner = self.lock();
        inner
            .families
            .get(&family)?
            .values
            .get(version_id)
            .map(copy_value)
    }

    /// Whether `record` is kept as a primary's own record (so it is no replica's: a record
    /// never changes between the two).
    pub fn is_primary_record(&self, record: SecretId) -> bool {
        self.lock()
            .families
            .get(&record)
            .is_some_and(|family| family.records.contains_key(&record))
    }

    /// Keeps `secret`, as loaded from the database after `ticket` was taken, unless a write
    /// was invalidated since.
    pub fn offer(&self, ticket: Ticket, secret: &Secret) {
        let weight = weight_of(secret);
        let mut inner = self.lock();
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        let (record, name, arn) = lookups(secret);
        self.make_room(&mut inner, weight);
        let family_id = secret.id;
        let family = inner.families.entry(family_id).or_default();
        let added = match family.records.insert(record, secret.clone()) {
            Some(replaced) => weight.saturating_sub(weight_of(&replaced)),
            None => weight,
        };
        family.weight += added;
        inner.weight += added;
        inner.names.insert(name, (family_id, record));
        inner.arns.insert(arn.to_owned(), (family_id, record));
    }

    /// Keeps a value of `version_id` of the primary `family`, read after `ticket` was taken.
    /// Values in the clear (from before encryption at rest) are never kept.
    pub fn offer_value(
        &self,
        ticket: Ticket,
        family: SecretId,
        version_id: &str,
        value: &StoredValue,
    ) {
        if !value.sealed {
            return;
        }
        let weight = value_weight(version_id, value);
        let mut inner = self.lock();
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        self.make_room(&mut inner, weight);
        let entry = inner.families.entry(family).or_default();
        if entry.values.contains_key(version_id) {
            return;
        }
        entry
            .values
            .insert(version_id.to_owned(), copy_value(value));
        entry.weight += weight;
        inner.weight += weight;
    }

    /// Drops everything loaded from rows of `families`, and refuses every offer of a read that
    /// took its ticket before now. The writer calls this once a transaction that touched those
    /// rows is over, before answering its callers.
    pub fn invalidate(&self, families: impl IntoIterator<Item = SecretId>) {
        let mut inner = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        for family in families {
            remove_family(&mut inner, family);
        }
    }

    /// Applies `change` to everything kept of `families` (a write whose effect the caller
    /// knows exactly, such as read days), and refuses every offer of a read that took its
    /// ticket before now. Called once the write is committed, like [`Self::invalidate`].
    pub fn update(
        &self,
        families: impl IntoIterator<Item = SecretId>,
        mut change: impl FnMut(&mut Secret),
    ) {
        let mut inner = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        for family in families {
            if let Some(family) = inner.families.get_mut(&family) {
                family.records.values_mut().for_each(&mut change);
            }
        }
    }

    /// Drops arbitrary families until `incoming` more bytes fit in the budget.
    fn make_room(&self, inner: &mut Inner, incoming: usize) {
        if inner.weight + incoming <= self.budget {
            return;
        }
        // Down to 90 %, so that a full cache does not evict on every offer.
        let target = (self.budget / 10 * 9).saturating_sub(incoming);
        while inner.weight > target {
            let Some(&family) = inner.families.keys().next() else {
                inner.weight = 0;
                return;
            };
            remove_family(inner, family);
        }
    }

    #[cfg(test)]
    fn weight(&self) -> usize {
        self.lock().weight
    }
}

fn remove_family(inner: &mut Inner, family: SecretId) {
    let Some(removed) = inner.families.remove(&family) else {
        return;
    };
    inner.weight = inner.weight.saturating_sub(removed.weight);
    for secret in removed.records.values() {
        let (_, name, arn) = lookups(secret);
        inner.names.remove(&name);
        inner.arns.remove(arn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ValueKind;
    use crate::service::model::ReplicaView;

    fn secret(id: SecretId, name: &str) -> Secret {
        let mut secret = crate::store::conformance::secret("us-east-1", name);
        secret.id = id;
        secret
    }

    fn sealed(byte: u8) -> StoredValue {
        StoredValue::sealed(ValueKind::String, vec![byte; 64])
    }

    #[test]
    fn a_kept_secret_is_found_by_name_and_arn_until_its_family_is_invalidated() {
        let cache = SecretCache::new(DEFAULT_BUDGET_BYTES);
        let kept = secret(7, "db");
        cache.offer(cache.ticket(), &kept);
        let found = cache.by_name("123456789012", "us-east-1", "db");
        assert_eq!(found.map(|s| s.arn), Some(kept.arn.clone()));
        assert_eq!(cache.by_arn(&kept.arn).map(|s| s.id), Some(7));
        assert!(cache.by_name("123456789012", "eu-west-1", "db").is_none());

        cache.invalidate([8]);
        assert!(
            cache.by_arn(&kept.arn).is_some(),
            "another family's write keeps it"
        );
        cache.invalidate([7]);
        assert!(cache.by_arn(&kept.arn).is_none());
        assert!(cache.by_name("123456789012", "us-east-1", "db").is_none());
        assert_eq!(cache.weight(), 0);
    }

    #[test]
    fn an_offer_read_before_an_invalidation_is_refused() {
        let cache = SecretCache::new(DEFAULT_BUDGET_BYTES);
        let ticket = cache.ticket();
        // A write commits and is invalidated while the read is under way: what the read
        // loaded may predate the commit.
        cache.invalidate([1]);
        cache.offer(ticket, &secret(7, "db"));
        cache.offer_value(ticket, 7, "v1", &sealed(1));
        assert!(cache.by_name("123456789012", "us-east-1", "db").is_none());
        assert!(cache.value(7, "v1").is_none());

        let ticket = cache.ticket();
        cache.offer(ticket, &secret(7, "db"));
        assert!(cache.by_name("123456789012", "us-east-1", "db").is_some());
    }

    #[test]
    fn a_replica_view_is_kept_under_its_primary_family() {
        let cache = SecretCache::new(DEFAULT_BUDGET_BYTES);
        let mut view = secret(7, "db");
        view.replica_view = Some(ReplicaView {
            record: 9,
            region: "eu-west-1".into(),
            arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf".into(),
        });
        cache.offer(cache.ticket(), &view);
        cache.offer(cache.ticket(), &secret(7, "db"));
        let seen = cache.by_name("123456789012", "eu-west-1", "db");
        assert_eq!(seen.and_then(|s| s.replica_view).map(|v| v.record), Some(9));
        assert!(cache.by_name("123456789012", "us-east-1", "db").is_some());
        // A write to the primary (family 7) drops both views.
        cache.invalidate([7]);
        assert!(cache.by_name("123456789012", "eu-west-1", "db").is_none());
        assert!(cache.by_name("123456789012", "us-east-1", "db").is_none());
    }

    #[test]
    fn only_sealed_values_are_kept_and_they_go_with_their_family() {
        let cache = SecretCache::new(DEFAULT_BUDGET_BYTES);
        let plain = StoredValue {
            kind: ValueKind::String,
            sealed: false,
            bytes: zeroize::Zeroizing::new(b"in the clear".to_vec()),
        };
        cache.offer_value(cache.ticket(), 7, "old", &plain);
        assert!(cache.value(7, "old").is_none());
        cache.offer_value(cache.ticket(), 7, "v1", &sealed(3));
        assert_eq!(
            cache.value(7, "v1").map(|v| v.bytes.to_vec()),
            Some(vec![3; 64])
        );
        assert!(cache.value(7, "v2").is_none());
        cache.invalidate([7]);
        assert!(cache.value(7, "v1").is_none());
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let one = weight_of(&secret(1, "secret-00000")) + value_weight("v1", &sealed(0));
        let cache = SecretCache::new(one * 10);
        for id in 0..100 {
            let kept = secret(id, &format!("secret-{id:05}"));
            cache.offer(cache.ticket(), &kept);
            cache.offer_value(cache.ticket(), id, "v1", &sealed(0));
            assert!(cache.weight() <= one * 10, "over budget after {id}");
        }
        let kept = (0..100)
            .filter(|id| {
                cache
                    .by_arn(&secret(*id, &format!("secret-{id:05}")).arn)
                    .is_some()
            })
            .count();
        assert!((5..=10).contains(&kept), "{kept} kept");
        // The latest offer is always kept.
        assert!(cache.value(99, "v1").is_some());
    }
}
