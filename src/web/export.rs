//! `GET /export/monthly.csv?month=YYYY-MM`: the same bytes as
//! `finops export monthly --month YYYY-MM`.

use actix_web::{web, HttpRequest, HttpResponse};

use super::errors::{HtmlError, WebError};
use super::params::Params;
use super::state::AppState;
use super::{answer, cache_key, Payload};
use crate::report::export::{file_name, monthly_csv};

pub async fn monthly(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HtmlError> {
    let params = Params::parse(req.query_string());
    let month = params
        .allow_only(&["month"])
        .and_then(|_| params.month("month"))
        .map_err(|e| HtmlError(WebError::BadRequest(e)))?
        .ok_or_else(|| {
            HtmlError(WebError::BadRequest(
                "parameter 'month' is required (YYYY-MM)".into(),
            ))
        })?;
    let st = state.clone();
    let response = answer(
        state.into_inner(),
        cache_key(&req),
        move |conn, catalog, _| {
            if let Some(why) = catalog.month_without_data(month) {
                return Err(WebError::NotFound(why));
            }
            let body = monthly_csv(conn, month)?;
            Ok(Payload::csv(file_name(month), body))
        },
    )
    .await
    .map_err(HtmlError)?;
    super::audit_export(&st, &req, format!("monthly CSV {month}"))
        .await
        .map_err(HtmlError)?;
    Ok(response)
}
