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

/// Whether `text` matches `pattern` as a whole.
///
/// Iterative, with one backtracking point (the last `*` seen), so it runs in
/// O(pattern × text) time at worst and constant stack, whatever the input.
pub fn wildcard_match(pattern: &str, text: &str, case: Case) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let same = |p: char, t: char| match case {
        Case::Sensitive => p == t,
        Case::Insensitive => p.eq_ignore_ascii_case(&t),
    };
    let (mut p, mut t) = (0, 0);
    // After the last `*`: where the pattern resumes, and where the text it swallowed ends.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                p += 1;
                backtrack = Some((p, t));
            }
            Some(&c) if c == '?' || same(c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((resume, swallowed)) => {
                    p = resume;
                    t = swallowed + 1;
                    backtrack = Some((resume, swallowed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
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
