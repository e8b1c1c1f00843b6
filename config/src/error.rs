//! Configuration errors: each names the JSON path of the bad field.

use std::fmt;

/// One thing wrong with a configuration document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// JSON path of the offending field, like `services[0].servers[2].weight`;
    /// empty for the document as a whole (an unreadable file, bad syntax at
    /// the top level).
    pub path: String,
    /// Why it is wrong.
    pub reason: String,
    /// 1-based (line, column) in the file, for errors found while reading
    /// the JSON (syntax, wrong type, unknown or missing field). The rules
    /// checked afterwards carry the path only.
    pub location: Option<(usize, usize)>,
}

impl ConfigError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            reason: reason.into(),
            location: None,
        }
    }

    /// The line in the file, when known.
    pub fn line(&self) -> Option<usize> {
        self.location.map(|(line, _)| line)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)?;
        } else {
            write!(f, "{}: {}", self.path, self.reason)?;
        }
        if let Some((line, column)) = self.location {
            write!(f, " (at line {line}, column {column})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Every error found in a document (never empty). Displays one per line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// The first error at exactly `path`, if any (handy in tests and tools).
    pub fn at(&self, path: &str) -> Option<&ConfigError> {
        self.0.iter().find(|e| e.path == path)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> ConfigErrors {
        ConfigErrors(vec![e])
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
