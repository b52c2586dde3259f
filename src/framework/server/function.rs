//! CallFunction: arity and argument checks, then the function itself.

use super::{EncodedValue, Server};
use crate::framework::function::FunctionError;
use crate::framework::provider::Provider;
use crate::framework::value::Value;

impl<P: Provider> Server<P> {
    pub(crate) async fn call_function(
        &self,
        name: &str,
        arguments: &[EncodedValue],
    ) -> Result<EncodedValue, FunctionError> {
        let Some((function, def)) = self.functions.get(name) else {
            return Err(FunctionError::new(format!(
                "This provider has no function {name:?}."
            )));
        };
        let fixed = def.parameters.len();
        let arity_ok =
            arguments.len() >= fixed && (def.variadic.is_some() || arguments.len() == fixed);
        if !arity_ok {
            return Err(FunctionError::new(format!(
                "{} takes {}{} argument(s), got {}.",
                def.name,
                fixed,
                if def.variadic.is_some() {
                    " or more"
                } else {
                    ""
                },
                arguments.len()
            )));
        }
        let mut values = Vec::with_capacity(arguments.len());
        let mut any_unknown_refused = false;
        for (index, raw) in arguments.iter().enumerate() {
            let Some(parameter) = def.parameters.get(index).or(def.variadic.as_ref()) else {
                return Err(FunctionError::argument(index, "Unexpected argument."));
            };
            let value = raw
                .decode(&parameter.ty)
                .map_err(|e| FunctionError::argument(index, e.to_string()))?;
            if value.is_null() && !parameter.allow_null {
                return Err(FunctionError::argument(
                    index,
                    format!("Argument {:?} must not be null.", parameter.name),
                ));
            }
            if !value.is_wholly_known() && !parameter.allow_unknown {
                any_unknown_refused = true;
            }
            values.push(value);
        }
        // Terraform only sends unknowns to parameters that allow them; if one slips through, the honest
        // answer is an unknown result.
        let result = if any_unknown_refused {
            Value::unknown()
        } else {
            function.run(values).await?
        };
        EncodedValue::encode(&result, &def.return_type)
            .map_err(|e| FunctionError::new(e.to_string()))
    }
}
