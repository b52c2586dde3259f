//! Attribute paths: where in a value a diagnostic or a plan change applies.

use std::fmt;

/// One step into a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Attribute(String),
    /// Map key.
    Key(String),
    /// List or tuple index.
    Index(i64),
    /// Some element of a set. The protocol cannot name set elements, so paths sent to Terraform end at
    /// the set (see [`AttributePath::up_to_set`]).
    SetElement,
}

/// A path from the root object, e.g. `timeouts.create` or `members[2].id`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath {
    steps: Vec<PathStep>,
}

impl AttributePath {
    /// The root (whole resource); diagnostics with this path are not tied to an attribute.
    pub fn root() -> Self {
        Self::default()
    }

    /// A top-level attribute.
    pub fn new(attribute: impl Into<String>) -> Self {
        Self::root().attribute(attribute)
    }

    pub fn attribute(mut self, name: impl Into<String>) -> Self {
        self.steps.push(PathStep::Attribute(name.into()));
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.steps.push(PathStep::Key(key.into()));
        self
    }

    pub fn index(mut self, index: i64) -> Self {
        self.steps.push(PathStep::Index(index));
        self
    }

    /// This path extended by one step, leaving `self` untouched (handy while walking schemas).
    pub fn child(&self, step: PathStep) -> Self {
        let mut next = self.clone();
        next.steps.push(step);
        next
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }

    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// This path cut before its first set element step: the closest path Terraform can resolve.
    pub fn up_to_set(&self) -> AttributePath {
        let end = self
            .steps
            .iter()
            .position(|s| *s == PathStep::SetElement)
            .unwrap_or(self.steps.len());
        AttributePath {
            steps: self.steps[..end].to_vec(),
        }
    }

    pub fn from_steps(steps: Vec<PathStep>) -> Self {
        Self { steps }
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => f.write_str(name)?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
                PathStep::SetElement => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_terraform_references() {
        let path = AttributePath::new("members")
            .index(2)
            .attribute("tags")
            .key("env");
        assert_eq!(path.to_string(), r#"members[2].tags["env"]"#);
        assert!(AttributePath::root().is_root());
        assert_eq!(
            AttributePath::new("a")
                .child(PathStep::Index(0))
                .steps()
                .len(),
            2
        );
    }
}
