//! What is wrong with a policy document, and where.

/// Why a document is not an acceptable policy. The message names the element (as a path such as
/// `Statement[1].Condition["StringEquals"]`) and the problem; it quotes at most a short,
/// truncated piece of the document (an element name or a value), never more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is not JSON. The detail is serde_json's, with a line and column.
    #[error("The policy document is not valid JSON: {0}.")]
    NotJson(String),
    /// An element holds the wrong kind of JSON value.
    #[error("{at} must be {expected}, not {found}.")]
    WrongType {
        at: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A required element is absent.
    #[error("{at} is missing the required element {element}.")]
    Missing { at: String, element: String },
    /// An element name the policy language does not have (element names are case-sensitive).
    #[error("{at} has an unknown element {element}.")]
    UnknownElement { at: String, element: String },
    /// The same name twice in one JSON object.
    #[error("{at} has the element {element} more than once.")]
    DuplicateElement { at: String, element: String },
    /// Two elements that exclude each other, such as `Action` and `NotAction`.
    #[error("{at} cannot have both \"{first}\" and \"{second}\".")]
    Conflict {
        at: String,
        first: &'static str,
        second: &'static str,
    },
    /// Any other rule; `problem` reads as the rest of a sentence that starts with `at`.
    #[error("{at} {problem}.")]
    Invalid { at: String, problem: String },
}

impl PolicyError {
    pub(super) fn invalid(at: &str, problem: impl Into<String>) -> Self {
        PolicyError::Invalid {
            at: at.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The longest piece of a document an error message repeats, in characters.
const QUOTE_LIMIT: usize = 64;

/// `text` as a quoted, escaped string for a message, cut to [`QUOTE_LIMIT`] characters.
pub(super) fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_escaped_and_short() {
        assert_eq!(quote("Allow"), "\"Allow\"");
        assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
        let long = "é".repeat(1000);
        let quoted = quote(&long);
        assert_eq!(quoted.chars().count(), QUOTE_LIMIT + 3);
        assert!(quoted.ends_with('…'));
    }
}
