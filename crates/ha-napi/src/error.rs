//! The error a function throws into JavaScript, or a promise rejects with.

/// An error to throw into JavaScript (or to reject a promise with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub(crate) message: String,
    pub(crate) code: Option<&'static str>,
    pub(crate) type_error: bool,
    /// A JavaScript exception is already pending; it is the error.
    pub(crate) pending: bool,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            code: None,
            type_error: false,
            pending: false,
        }
    }

    pub fn with_code(code: &'static str, message: impl Into<String>) -> Error {
        Error {
            code: Some(code),
            ..Error::new(message)
        }
    }

    /// A `TypeError` with code `ERR_INVALID_ARG_TYPE`, as node's own
    /// argument checks throw.
    pub fn type_error(message: impl Into<String>) -> Error {
        Error {
            code: Some("ERR_INVALID_ARG_TYPE"),
            type_error: true,
            ..Error::new(message)
        }
    }

    pub(crate) fn pending() -> Error {
        Error {
            pending: true,
            ..Error::new("a JavaScript exception is pending")
        }
    }

    /// What a panic in native code becomes.
    pub(crate) fn from_panic(message: &str) -> Error {
        Error::with_code(
            "ERR_NATIVE_PANIC",
            format!("internal error in native code: {message}"),
        )
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn code(&self) -> Option<&'static str> {
        self.code
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;
