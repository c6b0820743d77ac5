//! `GetRandomPassword`: a password drawn from the operating system's generator.
//!
//! The rules, as AWS applies them:
//!
//! - The length is 1-4096 characters, 32 when not given (botocore model, `PasswordLengthType`).
//! - Four character types: uppercase letters, lowercase letters, digits, and the 32 ASCII
//!   punctuation characters ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``. Each can be switched off. The
//!   space is a fifth character that is only admitted with `IncludeSpace`. `ExcludeCharacters`
//!   removes single characters from whatever is left.
//! - `RequireEachIncludedType` (on by default) puts at least one character of each of the four
//!   types that are not switched off into the password. The space is never required, only
//!   admitted: the API reference lists the required types as "one upper and lowercase letter,
//!   one number, and one punctuation", and CloudFormation's `GenerateSecretString`, which is
//!   served by the same generator, was measured to behave so.
//! - Refusals (all `InvalidParameterException`, in this order): a required type whose every
//!   character is excluded, nothing left to draw from at all, and a length shorter than the
//!   number of required types.
//!
//! Every draw is uniform: indices come from rejection sampling over 32-bit words of the OS
//! generator (no modulo bias), the required characters are placed first and the whole buffer
//! is then shuffled with Fisher-Yates, so they land on uniformly random positions. The password
//! and the random words that chose it live only in buffers that are zeroed when dropped.

use std::fmt;

use rand::TryRngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::crypto::SecretString;
use crate::protocol::ErrorCode;

/// The length AWS uses when `PasswordLength` is not given.
pub const DEFAULT_LENGTH: i64 = 32;
/// The longest password (`PasswordLengthType` max).
pub const MAX_LENGTH: i64 = 4096;
/// The longest `ExcludeCharacters` (`ExcludeCharactersType` max), in characters.
pub const MAX_EXCLUDE_CHARACTERS: usize = 4096;

const UPPERCASE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWERCASE: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";
/// The punctuation of the API reference (`ExcludePunctuation`): every printable ASCII character
/// that is neither a letter, a digit nor the space.
pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The members of a `GetRandomPassword` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordOptions {
    /// `PasswordLength`; 32 when absent.
    pub length: Option<i64>,
    pub exclude_characters: Option<String>,
    pub exclude_numbers: bool,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    pub exclude_lowercase: bool,
    pub include_space: bool,
    /// `RequireEachIncludedType`; AWS's default is `true`.
    pub require_each_included_type: bool,
}

impl Default for PasswordOptions {
    /// The options of a request that sets no member.
    fn default() -> PasswordOptions {
        PasswordOptions {
            length: None,
            exclude_characters: None,
            exclude_numbers: false,
            exclude_punctuation: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
        }
    }
}

/// Why no password was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordError {
    /// `PasswordLength` outside 1-4096 (a model constraint, checked by AWS's front end).
    LengthOutOfRange(i64),
    /// `ExcludeCharacters` longer than 4096 characters (a model constraint); holds the length.
    ExcludeCharactersTooLong(usize),
    /// `RequireEachIncludedType` is on and `ExcludeCharacters` removed every character of a
    /// type that is not switched off.
    RequiredTypeExcluded,
    /// No character is left to draw from.
    AllCharactersExcluded,
    /// `RequireEachIncludedType` is on and the length is smaller than the number of types.
    TooShortForRequiredTypes,
    /// The operating system's generator failed.
    Randomness(String),
}

impl PasswordError {
    /// The AWS error code this error is sent with.
    pub fn code(&self) -> ErrorCode {
        match self {
            PasswordError::LengthOutOfRange(_) | PasswordError::ExcludeCharactersTooLong(_) => {
                ErrorCode::ValidationException
            }
            PasswordError::RequiredTypeExcluded
            | PasswordError::AllCharactersExcluded
            | PasswordError::TooShortForRequiredTypes => ErrorCode::InvalidParameterException,
            PasswordError::Randomness(_) => ErrorCode::InternalServiceError,
        }
    }
}

impl fmt::Display for PasswordError {
    /// The message AWS sends (see the module documentation for where each comes from).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordError::LengthOutOfRange(length) => {
                let constraint = if *length < 1 {
                    "Member must have value greater than or equal to 1".to_string()
                } else {
                    format!("Member must have value less than or equal to {MAX_LENGTH}")
                };
                write!(
                    f,
                    "1 validation error detected: Value '{length}' at 'passwordLength' failed to \
                     satisfy constraint: {constraint}"
                )
            }
            PasswordError::ExcludeCharactersTooLong(_) => write!(
                f,
                "1 validation error detected: Value at 'excludeCharacters' failed to satisfy \
                 constraint: Member must have length less than or equal to \
                 {MAX_EXCLUDE_CHARACTERS}"
            ),
            PasswordError::RequiredTypeExcluded => {
                f.write_str("All characters of the desired type have been excluded.")
            }
            PasswordError::AllCharactersExcluded => {
                f.write_str("All characters have been excluded from selection.")
            }
            PasswordError::TooShortForRequiredTypes => {
                f.write_str("Password length is too short based on the required types.")
            }
            PasswordError::Randomness(cause) => {
                write!(f, "the operating system's random generator failed: {cause}")
            }
        }
    }
}

impl std::error::Error for PasswordError {}

/// What a password may be made of, after the switches and `ExcludeCharacters`.
#[derive(Debug, PartialEq, Eq)]
struct Alphabet {
    /// Every character a position may take.
    pool: Vec<u8>,
    /// One entry per type that must appear: the characters it may appear as.
    required: Vec<Vec<u8>>,
}

impl Alphabet {
    fn new(options: &PasswordOptions) -> Result<Alphabet, PasswordError> {
        let excluded = options.exclude_characters.as_deref().unwrap_or("");
        let keep = |chars: &str| -> Vec<u8> {
            chars
                .bytes()
                .filter(|&byte| !excluded.contains(char::from(byte)))
                .collect()
        };
        let types = [
            (options.exclude_uppercase, UPPERCASE),
            (options.exclude_lowercase, LOWERCASE),
            (options.exclude_numbers, DIGITS),
            (options.exclude_punctuation, PUNCTUATION),
        ];
        let mut pool = Vec::new();
        let mut required = Vec::new();
        for (switched_off, chars) in types {
            if switched_off {
                continue;
            }
            let kept = keep(chars);
            if options.require_each_included_type {
                if kept.is_empty() {
                    return Err(PasswordError::RequiredTypeExcluded);
                }
                required.push(kept.clone());
            }
            pool.extend_from_slice(&kept);
        }
        if options.include_space {
            pool.extend(keep(" "));
        }
        if pool.is_empty() {
            return Err(PasswordError::AllCharactersExcluded);
        }
        Ok(Alphabet { pool, required })
    }
}

/// Checks the options and draws a password.
pub fn generate(options: &PasswordOptions) -> Result<SecretString, PasswordError> {
    let length = options.length.unwrap_or(DEFAULT_LENGTH);
    if !(1..=MAX_LENGTH).contains(&length) {
        return Err(PasswordError::LengthOutOfRange(length));
    }
    let length = usize::try_from(length).map_err(|_| PasswordError::LengthOutOfRange(length))?;
    if let Some(excluded) = &options.exclude_characters {
        let count = excluded.chars().count();
        if count > MAX_EXCLUDE_CHARACTERS {
            return Err(PasswordError::ExcludeCharactersTooLong(count));
        }
    }
    let alphabet = Alphabet::new(options)?;
    if alphabet.required.len() > length {
        return Err(PasswordError::TooShortForRequiredTypes);
    }
    draw(&alphabet, length, &mut OsRandom::default())
}

/// A source of uniform indices.
trait Random {
    /// A uniform integer in `0..bound` (`bound` >= 1).
    fn below(&mut self, bound: usize) -> Result<usize, PasswordError>;
}

/// Draws `length` characters: one of each required type, the rest from the whole pool, then
/// shuffles them all.
fn draw(
    alphabet: &Alphabet,
    length: usize,
    random: &mut impl Random,
) -> Result<SecretString, PasswordError> {
    // Exactly `length` bytes are ever pushed, so the buffer never reallocates (which would
    // leave an unzeroed copy behind).
    let mut chars = Zeroizing::new(Vec::with_capacity(length));
    for class in &alphabet.required {
        chars.push(class[random.below(class.len())?]);
    }
    while chars.len() < length {
        chars.push(alphabet.pool[random.below(alphabet.pool.len())?]);
    }
    // Fisher-Yates: after it, every arrangement of the drawn characters is equally likely,
    // so the required characters sit on uniformly random positions.
    for i in (1..chars.len()).rev() {
        let j = random.below(i + 1)?;
        chars.swap(i, j);
    }
    let mut text = String::with_capacity(length);
    text.extend(chars.iter().map(|&byte| char::from(byte)));
    Ok(SecretString::new(text))
}

/// How many times a draw may be rejected in a row before the generator is taken to be broken.
/// A healthy generator is rejected with probability below 2^-20 per draw (the bound is at most
/// 4096), so this is never reached by chance.
const MAX_REJECTIONS: u32 = 64;

/// Random 32-bit words from the operating system's generator, fetched in blocks.
struct OsRandom {
    block: Zeroizing<[u8; 256]>,
    /// How many bytes of `block` are used up.
    used: usize,
}

impl Default for OsRandom {
    fn default() -> OsRandom {
        OsRandom {
            block: Zeroizing::new([0; 256]),
            used: 256,
        }
    }
}

impl OsRandom {
    fn next_u32(&mut self) -> Result<u32, PasswordError> {
        if self.used + 4 > self.block.len() {
            OsRng
                .try_fill_bytes(&mut self.block[..])
                .map_err(|error| PasswordError::Randomness(error.to_string()))?;
            self.used = 0;
        }
        let mut word = [0u8; 4];
        word.copy_from_slice(&self.block[self.used..self.used + 4]);
        // The consumed bytes are not needed any more.
        self.block[self.used..self.used + 4].fill(0);
        self.used += 4;
        Ok(u32::from_le_bytes(word))
    }
}

impl Random for OsRandom {
    fn below(&mut self, bound: usize) -> Result<usize, PasswordError> {
        uniform_below(bound, || self.next_u32())
    }
}

/// A uniform integer in `0..bound` from uniform 32-bit words, without modulo bias: the words
/// below `2^32 mod bound` are rejected, so the accepted ones cover every residue equally often.
fn uniform_below(
    bound: usize,
    mut next_u32: impl FnMut() -> Result<u32, PasswordError>,
) -> Result<usize, PasswordError> {
    let bound = u64::try_from(bound)
        .ok()
        .filter(|bound| (1..=1 << 32).contains(bound))
        .ok_or_else(|| PasswordError::Randomness(format!("no uniform draw below {bound}")))?;
    let rejected_below = (1u64 << 32) % bound;
    for _ in 0..MAX_REJECTIONS {
        let word = u64::from(next_u32()?);
        if word >= rejected_below {
            // `word % bound` < `bound` <= 4096, which fits any usize.
            return usize::try_from(word % bound)
                .map_err(|_| PasswordError::Randomness("index out of range".into()));
        }
    }
    Err(PasswordError::Randomness(format!(
        "{MAX_REJECTIONS} draws in a row were rejected"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn options() -> PasswordOptions {
        PasswordOptions::default()
    }

    fn password(options: &PasswordOptions) -> String {
        generate(options).expect("a password").expose().to_string()
    }

    fn is_punctuation(c: char) -> bool {
        PUNCTUATION.contains(c)
    }

    #[test]
    fn punctuation_is_every_printable_ascii_symbol() {
        let expected: String = (b'!'..=b'~')
            .map(char::from)
            .filter(|c| !c.is_ascii_alphanumeric())
            .collect();
        assert_eq!(PUNCTUATION, expected);
        assert_eq!(PUNCTUATION.len(), 32);
    }

    #[test]
    fn default_is_32_characters_of_every_type() {
        for _ in 0..50 {
            let text = password(&options());
            assert_eq!(text.chars().count(), 32);
            assert!(text.chars().any(|c| c.is_ascii_uppercase()));
            assert!(text.chars().any(|c| c.is_ascii_lowercase()));
            assert!(text.chars().any(|c| c.is_ascii_digit()));
            assert!(text.chars().any(is_punctuation));
            assert!(!text.contains(' '));
        }
    }

    #[test]
    fn length_bounds_are_inclusive() {
        let one = PasswordOptions {
            length: Some(1),
            require_each_included_type: false,
            ..options()
        };
        assert_eq!(password(&one).len(), 1);
        let max = PasswordOptions {
            length: Some(4096),
            ..options()
        };
        assert_eq!(password(&max).len(), 4096);
    }

    #[test]
    fn length_out_of_range_is_a_validation_error() {
        for length in [0, -1, 4097, i64::MIN, i64::MAX] {
            let error = generate(&PasswordOptions {
                length: Some(length),
                ..options()
            })
            .expect_err("refused");
            assert_eq!(error, PasswordError::LengthOutOfRange(length));
            assert_eq!(error.code(), ErrorCode::ValidationException);
        }
        let low = PasswordError::LengthOutOfRange(0).to_string();
        assert_eq!(
            low,
            "1 validation error detected: Value '0' at 'passwordLength' failed to satisfy \
             constraint: Member must have value greater than or equal to 1"
        );
        let high = PasswordError::LengthOutOfRange(5555).to_string();
        assert_eq!(
            high,
            "1 validation error detected: Value '5555' at 'passwordLength' failed to satisfy \
             constraint: Member must have value less than or equal to 4096"
        );
    }

    #[test]
    fn exclude_characters_longer_than_4096_is_a_validation_error() {
        let long = PasswordOptions {
            exclude_characters: Some("a".repeat(4097)),
            ..options()
        };
        let error = generate(&long).expect_err("refused");
        assert_eq!(error, PasswordError::ExcludeCharactersTooLong(4097));
        assert_eq!(error.code(), ErrorCode::ValidationException);
        assert!(error.to_string().contains("'excludeCharacters'"));
        // Exactly 4096 characters is allowed.
        let limit = PasswordOptions {
            exclude_characters: Some("a".repeat(4096)),
            ..options()
        };
        assert!(!password(&limit).contains('a'));
    }

    #[test]
    fn too_short_for_the_required_types() {
        let error = generate(&PasswordOptions {
            length: Some(3),
            ..options()
        })
        .expect_err("refused");
        assert_eq!(error, PasswordError::TooShortForRequiredTypes);
        assert_eq!(error.code(), ErrorCode::InvalidParameterException);
        assert_eq!(
            error.to_string(),
            "Password length is too short based on the required types."
        );
        // Four is enough for four types, and each appears exactly once.
        for _ in 0..100 {
            let text = password(&PasswordOptions {
                length: Some(4),
                ..options()
            });
            assert_eq!(text.chars().filter(char::is_ascii_uppercase).count(), 1);
            assert_eq!(text.chars().filter(char::is_ascii_lowercase).count(), 1);
            assert_eq!(text.chars().filter(char::is_ascii_digit).count(), 1);
            assert_eq!(text.chars().filter(|&c| is_punctuation(c)).count(), 1);
        }
        // Fewer types need fewer characters; without the requirement any length works.
        let two_types = PasswordOptions {
            length: Some(2),
            exclude_numbers: true,
            exclude_punctuation: true,
            ..options()
        };
        assert_eq!(password(&two_types).len(), 2);
        let not_required = PasswordOptions {
            length: Some(1),
            require_each_included_type: false,
            ..options()
        };
        assert_eq!(password(&not_required).len(), 1);
    }

    #[test]
    fn the_space_is_never_a_required_type() {
        // Four types, four characters: the space would make five if it were required.
        let text = password(&PasswordOptions {
            length: Some(4),
            include_space: true,
            ..options()
        });
        assert_eq!(text.len(), 4);
        // Only the space is left: every position is a space.
        let spaces = password(&PasswordOptions {
            length: Some(5),
            include_space: true,
            exclude_uppercase: true,
            exclude_lowercase: true,
            exclude_numbers: true,
            exclude_punctuation: true,
            ..options()
        });
        assert_eq!(spaces, "     ");
    }

    #[test]
    fn space_only_when_included_and_not_excluded() {
        let base = PasswordOptions {
            length: Some(400),
            exclude_uppercase: true,
            exclude_lowercase: true,
            exclude_punctuation: true,
            ..options()
        };
        assert!(!password(&base).contains(' '));
        let with_space = PasswordOptions {
            include_space: true,
            ..base.clone()
        };
        // 400 draws from 11 characters: the space is missing with probability (10/11)^399.
        assert!(password(&with_space).contains(' '));
        let excluded_space = PasswordOptions {
            exclude_characters: Some(" ".into()),
            ..with_space
        };
        assert!(!password(&excluded_space).contains(' '));
    }

    #[test]
    fn a_required_type_emptied_by_exclude_characters_is_refused() {
        let error = generate(&PasswordOptions {
            exclude_characters: Some(DIGITS.into()),
            ..options()
        })
        .expect_err("refused");
        assert_eq!(error, PasswordError::RequiredTypeExcluded);
        assert_eq!(error.code(), ErrorCode::InvalidParameterException);
        assert_eq!(
            error.to_string(),
            "All characters of the desired type have been excluded."
        );
        // Switched off instead, or not required: fine.
        let switched_off = PasswordOptions {
            exclude_characters: Some(DIGITS.into()),
            exclude_numbers: true,
            ..options()
        };
        assert!(!password(&switched_off).contains(|c: char| c.is_ascii_digit()));
        let not_required = PasswordOptions {
            exclude_characters: Some(DIGITS.into()),
            require_each_included_type: false,
            ..options()
        };
        assert!(!password(&not_required).contains(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn nothing_left_is_refused() {
        let all_switched_off = PasswordOptions {
            exclude_uppercase: true,
            exclude_lowercase: true,
            exclude_numbers: true,
            exclude_punctuation: true,
            ..options()
        };
        let error = generate(&all_switched_off).expect_err("refused");
        assert_eq!(error, PasswordError::AllCharactersExcluded);
        assert_eq!(error.code(), ErrorCode::InvalidParameterException);
        assert_eq!(
            error.to_string(),
            "All characters have been excluded from selection."
        );
        // Everything excluded by characters, with the requirement off.
        let everything = format!("{UPPERCASE}{LOWERCASE}{DIGITS}{PUNCTUATION} ");
        let excluded = PasswordOptions {
            exclude_characters: Some(everything.clone()),
            include_space: true,
            require_each_included_type: false,
            ..options()
        };
        assert_eq!(
            generate(&excluded).expect_err("refused"),
            PasswordError::AllCharactersExcluded
        );
        // With the requirement on, the emptied type is what is reported.
        let required = PasswordOptions {
            exclude_characters: Some(everything),
            ..options()
        };
        assert_eq!(
            generate(&required).expect_err("refused"),
            PasswordError::RequiredTypeExcluded
        );
    }

    #[test]
    fn exclude_characters_ignores_characters_outside_the_alphabet() {
        let text = password(&PasswordOptions {
            exclude_characters: Some("é€\u{0}xyzDje@?!.".into()),
            length: Some(120),
            ..options()
        });
        assert_eq!(text.len(), 120);
        assert!(!text.contains(|c| "xyzDje@?!.".contains(c)));
    }

    #[test]
    fn every_character_of_a_ten_character_alphabet_appears_evenly() {
        let digits_only = PasswordOptions {
            length: Some(100),
            exclude_uppercase: true,
            exclude_lowercase: true,
            exclude_punctuation: true,
            ..options()
        };
        let mut counts = [0u32; 10];
        for _ in 0..100 {
            for c in password(&digits_only).chars() {
                counts[c.to_digit(10).expect("a digit") as usize] += 1;
            }
        }
        // 10,000 draws, 1,000 expected per digit with a standard deviation of 30: 1,000 +- 300
        // is ten deviations, so a fair generator fails this with probability below 1e-20.
        for (digit, count) in counts.iter().enumerate() {
            assert!((700..=1300).contains(count), "digit {digit}: {count}");
        }
    }

    #[test]
    fn required_characters_land_on_every_position() {
        // Uppercase reduced to 'A': every password has an 'A' that was placed first and then
        // shuffled. Were the shuffle missing or biased, some positions would (almost) never
        // hold one.
        let one_upper = PasswordOptions {
            length: Some(8),
            exclude_numbers: true,
            exclude_punctuation: true,
            exclude_characters: Some(UPPERCASE[1..].into()),
            ..options()
        };
        let mut positions = [0u32; 8];
        for _ in 0..4000 {
            let text = password(&one_upper);
            for (i, c) in text.chars().enumerate() {
                if c == 'A' {
                    positions[i] += 1;
                }
            }
        }
        // About 4,000 to 5,000 'A's in total, 1/8 per position (sd < 25): 200 is far below.
        for (i, count) in positions.iter().enumerate() {
            assert!(*count > 200, "position {i}: {count}");
        }
    }

    #[test]
    fn uniform_below_rejects_the_biased_low_words() {
        // bound 3: 2^32 mod 3 = 1, so word 0 is rejected and the next word is used.
        let mut words = [0u32, 0, 7].into_iter();
        let value = uniform_below(3, || Ok(words.next().expect("a word"))).expect("a value");
        assert_eq!(value, 7 % 3);
        // A power of two rejects nothing.
        let value = uniform_below(16, || Ok(0)).expect("a value");
        assert_eq!(value, 0);
        // The largest word is accepted: it is never in the biased low part.
        let value = uniform_below(10, || Ok(u32::MAX)).expect("a value");
        assert_eq!(value, (u32::MAX % 10) as usize);
    }

    #[test]
    fn a_stuck_generator_ends_in_an_error_not_a_loop() {
        // bound 3 rejects word 0; a generator that only says 0 must not hang.
        let error = uniform_below(3, || Ok(0)).expect_err("refused");
        assert!(matches!(error, PasswordError::Randomness(_)));
        assert_eq!(error.code(), ErrorCode::InternalServiceError);
        assert!(uniform_below(0, || Ok(1)).is_err());
    }

    /// A deterministic source for checking `draw` without the OS.
    struct Counter(usize);

    impl Random for Counter {
        fn below(&mut self, bound: usize) -> Result<usize, PasswordError> {
            self.0 += 1;
            Ok(self.0 % bound)
        }
    }

    #[test]
    fn draw_places_each_required_type_and_fills_from_the_pool() {
        let alphabet = Alphabet {
            pool: b"ab".to_vec(),
            required: vec![b"a".to_vec(), b"b".to_vec()],
        };
        let text = draw(&alphabet, 6, &mut Counter(0)).expect("a value");
        assert_eq!(text.expose().len(), 6);
        assert!(text.expose().contains('a') && text.expose().contains('b'));
    }

    fn options_strategy() -> impl Strategy<Value = PasswordOptions> {
        // Excluded characters are picked from the whole alphabet plus some that are not in it.
        let excluded = proptest::collection::vec(
            proptest::sample::select(
                format!("{UPPERCASE}{LOWERCASE}{DIGITS}{PUNCTUATION} é")
                    .chars()
                    .collect::<Vec<_>>(),
            ),
            0..40,
        );
        (
            proptest::option::of(1i64..=300),
            proptest::option::of(excluded),
            any::<[bool; 6]>(),
        )
            .prop_map(|(length, excluded, flags)| PasswordOptions {
                length,
                exclude_characters: excluded.map(|chars| chars.into_iter().collect()),
                exclude_numbers: flags[0],
                exclude_punctuation: flags[1],
                exclude_uppercase: flags[2],
                exclude_lowercase: flags[3],
                include_space: flags[4],
                require_each_included_type: flags[5],
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn every_password_keeps_every_rule(options in options_strategy()) {
            let excluded = options.exclude_characters.clone().unwrap_or_default();
            let types: [(bool, &str); 4] = [
                (options.exclude_uppercase, UPPERCASE),
                (options.exclude_lowercase, LOWERCASE),
                (options.exclude_numbers, DIGITS),
                (options.exclude_punctuation, PUNCTUATION),
            ];
            let left = |chars: &str| chars.chars().filter(|c| !excluded.contains(*c)).count();
            let included: Vec<&str> = types
                .iter()
                .filter(|(off, _)| !off)
                .map(|(_, chars)| *chars)
                .collect();
            let length = options.length.unwrap_or(32) as usize;
            let space = options.include_space && !excluded.contains(' ');
            let pool_size: usize = included.iter().map(|chars| left(chars)).sum::<usize>()
                + usize::from(space);

            match generate(&options) {
                Ok(secret) => {
                    let text = secret.expose();
                    prop_assert_eq!(text.chars().count(), length);
                    for c in text.chars() {
                        prop_assert!(!excluded.contains(c), "excluded {:?} in {:?}", c, text);
                        let allowed = included.iter().any(|chars| chars.contains(c))
                            || (c == ' ' && options.include_space);
                        prop_assert!(allowed, "{:?} not allowed in {:?}", c, text);
                    }
                    if options.require_each_included_type {
                        for chars in &included {
                            prop_assert!(text.chars().any(|c| chars.contains(c)),
                                "no character of {:?} in {:?}", chars, text);
                        }
                    }
                }
                Err(PasswordError::RequiredTypeExcluded) => {
                    prop_assert!(options.require_each_included_type);
                    prop_assert!(included.iter().any(|chars| left(chars) == 0));
                }
                Err(PasswordError::AllCharactersExcluded) => {
                    prop_assert_eq!(pool_size, 0);
                }
                Err(PasswordError::TooShortForRequiredTypes) => {
                    prop_assert!(options.require_each_included_type);
                    prop_assert!(included.len() > length);
                }
                Err(other) => prop_assert!(false, "unexpected error {:?}", other),
            }
        }
    }
}
