//! IAM's wildcard matching: `*` matches any run of characters (also none, also `:` and `/`),
//! `?` matches exactly one character. There is no escape: a pattern cannot match a literal `*`
//! except with a wildcard.

/// Whether letter case matters when comparing characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Resource ARNs, `StringLike`, `ArnLike`.
    Sensitive,
    /// Action names (ASCII letters only; IAM's names are ASCII).
    Insensitive,
}

/// One element of a pattern whose literal characters may themselves be `*` or `?`: what a
/// pattern becomes after policy variables (`${aws:username}`, `${*}`) are replaced, since the
/// text they stand for is literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// This character, literally.
    Char(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: any one character.
    One,
}

/// A pattern, read one token at a time from a position.
trait Pattern {
    /// The token at `at` and the position after it, or `None` at the end.
    fn token(&self, at: usize) -> Option<(Token, usize)>;
}

impl Pattern for str {
    fn token(&self, at: usize) -> Option<(Token, usize)> {
        let c = self.get(at..)?.chars().next()?;
        let token = match c {
            '*' => Token::Star,
            '?' => Token::One,
            c => Token::Char(c),
        };
        Some((token, at + c.len_utf8()))
    }
}

impl Pattern for [Token] {
    fn token(&self, at: usize) -> Option<(Token, usize)> {
        self.get(at).map(|&token| (token, at + 1))
    }
}

/// Whether `text` matches `pattern` as a whole.
///
/// Iterative, with one backtracking point (the last `*` seen), so it runs in
/// O(pattern × text) time at worst and constant stack, whatever the input. It allocates
/// nothing.
pub fn wildcard_match(pattern: &str, text: &str, case: Case) -> bool {
    matches(pattern, text, case)
}

/// [`wildcard_match`] for a pattern already cut into tokens.
pub(crate) fn tokens_match(pattern: &[Token], text: &str, case: Case) -> bool {
    matches(pattern, text, case)
}

fn matches<P: Pattern + ?Sized>(pattern: &P, text: &str, case: Case) -> bool {
    let same = |p: char, t: char| match case {
        Case::Sensitive => p == t,
        Case::Insensitive => p.eq_ignore_ascii_case(&t),
    };
    // Positions are byte offsets into `text` and positions of `pattern`.
    let (mut p, mut t) = (0, 0);
    // After the last `*`: where the pattern resumes, and where the text it swallowed ends.
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(c) = text[t..].chars().next() {
        match pattern.token(p) {
            Some((Token::Star, next)) => {
                p = next;
                backtrack = Some((p, t));
            }
            Some((Token::One, next)) => {
                p = next;
                t += c.len_utf8();
            }
            Some((Token::Char(pc), next)) if same(pc, c) => {
                p = next;
                t += c.len_utf8();
            }
            _ => match backtrack {
                Some((resume, swallowed)) => {
                    let step = text[swallowed..].chars().next().map_or(1, char::len_utf8);
                    p = resume;
                    t = swallowed + step;
                    backtrack = Some((resume, t));
                }
                None => return false,
            },
        }
    }
    while let Some((token, next)) = pattern.token(p) {
        if token != Token::Star {
            return false;
        }
        p = next;
    }
    true
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            ("*", "", true),
            ("*", "anything:at/all", true),
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            ("secretsmanager:Get*", "secretsmanager:GetSecretValue", true),
            (
                "secretsmanager:Get*",
                "secretsmanager:PutSecretValue",
                false,
            ),
            (
                "secretsmanager:*Secret*",
                "secretsmanager:DescribeSecret",
                true,
            ),
            ("s?", "s3", true),
            ("s?", "s", false),
            ("s?", "s34", false),
            ("a*b*c", "a-b-b-c", true),
            ("a*b*c", "a-b-b-d", false),
            ("*:*", "no colon", false),
            (
                "arn:aws:secretsmanager:*:123456789012:secret:db-*",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
                true,
            ),
            (
                "arn:aws:secretsmanager:*:123456789012:secret:db-*",
                "arn:aws:secretsmanager:eu-west-1:999999999999:secret:db-AbCdEf",
                false,
            ),
            ("**", "x", true),
            ("é?", "éà", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                wildcard_match(pattern, text, Case::Sensitive),
                expected,
                "{pattern:?} against {text:?}"
            );
        }
    }

    #[test]
    fn case_is_ignored_only_when_asked() {
        let pattern = "SecretsManager:get*";
        let text = "secretsmanager:GetSecretValue";
        assert!(wildcard_match(pattern, text, Case::Insensitive));
        assert!(!wildcard_match(pattern, text, Case::Sensitive));
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let pattern = "*a".repeat(200) + "b";
        let text = "a".repeat(5_000);
        assert!(!wildcard_match(&pattern, &text, Case::Sensitive));
    }

    /// A plain recursive matcher, obviously right and slow, to compare against.
    fn reference(pattern: &[char], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => (0..=text.len()).any(|skip| reference(rest, &text[skip..])),
            Some((&c, rest)) => text
                .split_first()
                .is_some_and(|(&t, text)| (c == '?' || c == t) && reference(rest, text)),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_reference_matcher(pattern in "[ab*?]{0,8}", text in "[ab]{0,8}") {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(wildcard_match(&pattern, &text, Case::Sensitive), reference(&p, &t));
        }
    }
}
