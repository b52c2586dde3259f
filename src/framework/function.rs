//! The `Function` trait: provider-defined functions (`provider::<provider type name>::name(...)`).

use async_trait::async_trait;

use super::types::Type;
use super::value::Value;

/// One parameter of a function.
#[derive(Clone, Debug)]
pub struct Parameter {
    pub name: String,
    pub ty: Type,
    /// Null arguments are refused before `run` unless set.
    pub allow_null: bool,
    /// Unknown arguments make the result unknown without calling `run` unless set.
    pub allow_unknown: bool,
    pub description: String,
}

impl Parameter {
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Parameter {
            name: name.into(),
            ty,
            allow_null: false,
            allow_unknown: false,
            description: String::new(),
        }
    }

    pub fn allow_null(mut self) -> Self {
        self.allow_null = true;
        self
    }

    pub fn allow_unknown(mut self) -> Self {
        self.allow_unknown = true;
        self
    }

    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }
}

/// Signature and documentation of a function.
#[derive(Clone, Debug)]
pub struct FunctionDefinition {
    pub name: String,
    pub parameters: Vec<Parameter>,
    /// Receives any further arguments, each of this parameter's type.
    pub variadic: Option<Parameter>,
    pub return_type: Type,
    pub summary: String,
    pub description: String,
    pub deprecation_message: Option<String>,
}

impl FunctionDefinition {
    pub fn new(name: impl Into<String>, return_type: Type) -> Self {
        FunctionDefinition {
            name: name.into(),
            parameters: Vec::new(),
            variadic: None,
            return_type,
            summary: String::new(),
            description: String::new(),
            deprecation_message: None,
        }
    }

    pub fn parameter(mut self, parameter: Parameter) -> Self {
        self.parameters.push(parameter);
        self
    }

    pub fn variadic(mut self, parameter: Parameter) -> Self {
        self.variadic = Some(parameter);
        self
    }

    pub fn summary(mut self, text: impl Into<String>) -> Self {
        self.summary = text.into();
        self
    }

    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }
}

/// A function failure shown to the user; `argument` (0-based) points at the offending argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<i64>,
}

impl FunctionError {
    pub fn new(text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: None,
        }
    }

    pub fn argument(index: usize, text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: Some(index as i64),
        }
    }
}

#[async_trait]
pub trait Function: Send + Sync + 'static {
    fn definition(&self) -> FunctionDefinition;

    /// Arguments arrive decoded with the parameter types, variadic ones last.
    async fn run(&self, arguments: Vec<Value>) -> Result<Value, FunctionError>;
}
