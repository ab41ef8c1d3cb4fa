//! Endpoint rules: a request becomes an `EndpointDraft` only if every field is valid.

use url::Url;

use crate::changes::views::ResourceType;
use crate::error::ApiError;
use crate::values::text::{self, Errors};
use crate::webhooks::guard;
use crate::webhooks::views::{WebhookEndpoint, WebhookEndpointInput};

/// An endpoint whose fields all hold. Whether its URL reaches a permitted address is checked
/// separately (`guard::check_target`), since it needs DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointDraft {
    pub url: Url,
    pub description: Option<String>,
    /// Without duplicates, in the order given; empty means every readable type.
    pub types: Vec<ResourceType>,
    pub enabled: bool,
}

impl EndpointDraft {
    pub fn type_names(&self) -> Vec<String> {
        self.types.iter().map(|t| t.as_str().to_string()).collect()
    }
}

impl TryFrom<WebhookEndpointInput> for EndpointDraft {
    type Error = ApiError;

    fn try_from(input: WebhookEndpointInput) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        let url = errors.check(guard::parse_url(&input.url));
        let description = errors.check(text::optional(
            "description",
            input.description.as_deref(),
            500,
        ));
        let mut types = Vec::new();
        for t in input.types {
            if !types.contains(&t) {
                types.push(t);
            }
        }
        errors.finish(|| {
            Some(Self {
                url: url?,
                description: description?,
                types,
                enabled: input.enabled,
            })
        })
    }
}

impl From<&WebhookEndpoint> for WebhookEndpointInput {
    fn from(endpoint: &WebhookEndpoint) -> Self {
        Self {
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            types: endpoint.types.clone(),
            enabled: endpoint.enabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invalid_field_is_named() {
        let input = WebhookEndpointInput {
            url: "gopher://x".into(),
            description: Some("x".repeat(501)),
            types: vec![],
            enabled: true,
        };
        let error = EndpointDraft::try_from(input).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "description"]);
    }

    #[test]
    fn types_lose_duplicates() {
        let input = WebhookEndpointInput {
            url: "https://partner.example.fr/hook".into(),
            description: None,
            types: vec![ResourceType::Session, ResourceType::Session],
            enabled: true,
        };
        let draft = EndpointDraft::try_from(input).unwrap();
        assert_eq!(draft.types, [ResourceType::Session]);
    }
}
