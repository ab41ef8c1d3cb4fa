//! What answers when no route matches: 405 with `Allow` when the path exists under other
//! methods, 404 otherwise. The known paths come from the OpenAPI document, which is generated
//! from the route table, so this cannot drift from the routes.

use actix_web::{
    http::{header, Method, StatusCode},
    web, HttpRequest, HttpResponse, ResponseError,
};
use utoipa::openapi::OpenApi;

use crate::error::ApiError;

/// Every documented path template with its methods.
#[derive(Debug, Default)]
pub struct KnownPaths {
    paths: Vec<(Vec<String>, Vec<Method>)>,
}

impl KnownPaths {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let paths = doc
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_string).collect();
                let json = serde_json::to_value(item).unwrap_or_default();
                let methods = ["get", "post", "put", "patch", "delete"]
                    .iter()
                    .filter(|m| json.get(**m).is_some())
                    .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                    .collect();
                (segments, methods)
            })
            .collect();
        Self { paths }
    }

    /// The methods allowed on `path`, if it matches a documented template. The most specific
    /// templates win: `/sessions/batch` is that path, not `/sessions/{id}`.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut found: Option<(usize, Vec<Method>)> = None;
        for (template, methods) in &self.paths {
            let is_parameter = |t: &String| t.starts_with('{') && t.ends_with('}');
            let matches = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (is_parameter(t) && !s.is_empty()) || t == s);
            if !matches {
                continue;
            }
            let parameters = template.iter().filter(|t| is_parameter(t)).count();
            match &mut found {
                Some((fewest, all)) if parameters == *fewest => all.extend(methods.iter().cloned()),
                Some((fewest, _)) if parameters > *fewest => {}
                _ => found = Some((parameters, methods.clone())),
            }
        }
        found.map(|(_, methods)| methods)
    }
}

/// The answer for a request no operation takes: 405 with `Allow` when the path exists under
/// other methods, 404 otherwise.
pub fn unrouted(request: &HttpRequest) -> ApiError {
    let allowed = request
        .app_data::<web::Data<KnownPaths>>()
        .and_then(|known| known.allowed(request.path()));
    match allowed {
        Some(methods) if !methods.contains(request.method()) => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not allowed here; allowed: {allow}", request.method()),
            )
            .with_header(
                header::ALLOW,
                header::HeaderValue::from_str(&allow).expect("method names are valid"),
            )
        }
        _ => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No resource exists at this address",
        ),
    }
}

/// The default service.
pub async fn no_route(request: HttpRequest) -> HttpResponse {
    unrouted(&request).error_response()
}
