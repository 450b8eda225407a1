//! `/profile`: the viewer's own account over `services::me`: password change and TOTP
//! enrolment (QR code of the `otpauth://` URL, confirm with a code, disable with
//! the password). Changes that end the user's sessions (password, TOTP off) give this
//! browser a fresh session, so only the others are logged out.

use super::csrf::{self, CsrfOnly};
use super::page::{Viewer, html_status, see_other, when};
use crate::auth::session;
use crate::db::users::UserRow;
use crate::error::{ApiError, PageError};
use crate::services::{self, me::ChangePassword};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::profile::{ProfileView, Totp, page};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

/// The TOTP state; a pending enrolment shows its secret again (e.g. after a wrong code).
fn totp_state(state: &AppState, user: &UserRow) -> Result<Totp, ApiError> {
    if user.totp_enabled {
        return Ok(Totp::On);
    }
    Ok(match services::me::pending_enrollment(state, user)? {
        Some(e) => Totp::Enrolling {
            secret: e.secret,
            otpauth_url: e.otpauth_url,
        },
        None => Totp::Off,
    })
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    mut view: ProfileView,
    status: StatusCode,
) -> Result<Response, PageError> {
    // From the database, not the principal's cached row: enrolment just changed it.
    let user = services::me::current(state, &viewer.principal.user_id).await?;
    view.totp = totp_state(state, &user)?;
    view.usage = Some(super::usage::own(state, &viewer.principal).await?);
    view.email = user.email;
    view.role = user.role;
    view.created = when(user.created_at);
    Ok(html_status(page(&viewer.ctx(Nav::Profile), &view), status))
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match q.done.as_str() {
        "password" => Some("Password changed. Your other sessions have ended."),
        "totp_on" => Some("Two-factor authentication is on. Logging in now asks for a code."),
        "totp_off" => Some("Two-factor authentication is off."),
        _ => None,
    };
    let view = ProfileView {
        notice: notice.map(str::to_owned),
        ..ProfileView::default()
    };
    render(&state, &viewer, view, StatusCode::OK).await
}

/// After a change that moved the user's `auth_version` (which ends every session):
/// a new session for this browser, then back to the profile.
async fn renew_session(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    done: &str,
) -> Result<Response, PageError> {
    let user = services::me::current(state, &viewer.principal.user_id).await?;
    if let Some(old) = session::cookie(headers, session::SESSION_COOKIE) {
        session::revoke(state, old).await?;
    }
    let new = session::create(state, &user).await?;
    let cookie = session::set_cookie(
        state,
        session::SESSION_COOKIE,
        &new.id,
        session::SESSION_TTL,
    );
    let mut resp = see_other(&format!("/profile?done={done}"));
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.into()))?,
    );
    Ok(resp)
}

/// Where a refused form's message goes.
#[derive(Clone, Copy)]
enum Slot {
    Password,
    Totp,
}

/// What follows an accepted change.
enum Then {
    Redirect(&'static str),
    /// The change ended every session: renew this one, then `?done=`.
    Renew(&'static str),
}

/// What one profile form's service call answered: done, `then` follows; refused, the
/// page again with the message (plus `hint`) in `slot`.
async fn submit(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    outcome: Result<(), ApiError>,
    (slot, hint): (Slot, &str),
    then: Then,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => match then {
            Then::Redirect(to) => Ok(see_other(to)),
            Then::Renew(done) => renew_session(state, viewer, headers, done).await,
        },
        Err(e @ (ApiError::BadRequest(_) | ApiError::Conflict(_) | ApiError::Validation(_))) => {
            let message = Some(format!("{}{hint}", capitalised(&e.to_string())));
            let view = match slot {
                Slot::Password => ProfileView {
                    password_error: message,
                    ..ProfileView::default()
                },
                Slot::Totp => ProfileView {
                    totp_error: message,
                    ..ProfileView::default()
                },
            };
            render(state, viewer, view, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    // Only the form has a confirmation field; everything else is the service's check.
    if f.new_password != f.confirm_password {
        let view = ProfileView {
            password_error: Some("The two new passwords differ; type the same one twice.".into()),
            ..ProfileView::default()
        };
        return render(&state, &viewer, view, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let req = ChangePassword {
        current_password: f.current_password,
        new_password: f.new_password,
    };
    let outcome = services::me::change_password(&state, &viewer.actor(), req).await;
    let then = Then::Renew("password");
    let slot = (Slot::Password, ".");
    submit(&state, &viewer, &headers, outcome, slot, then).await
}

/// Starts enrolment: the service makes a new secret; the page shows it as a QR code.
pub async fn totp_start(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let totp_error = match services::me::totp_enroll(&state, &viewer.actor()).await {
        Ok(_) => None,
        Err(ApiError::Conflict(message)) => Some(message),
        Err(e) => return Err(e.into()),
    };
    let view = ProfileView {
        totp_error,
        ..ProfileView::default()
    };
    render(&state, &viewer, view, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let outcome = services::me::totp_confirm(&state, &viewer.actor(), f.code.trim()).await;
    let then = Then::Redirect("/profile?done=totp_on");
    let slot = (Slot::Totp, ": enter the code your app shows now.");
    submit(&state, &viewer, &headers, outcome, slot, then).await
}

#[derive(Deserialize)]
pub struct PasswordOnly {
    csrf: Option<String>,
    #[serde(default)]
    password: String,
}

pub async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<PasswordOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let outcome = services::me::totp_disable(&state, &viewer.actor(), f.password).await;
    let then = Then::Renew("totp_off");
    let slot = (Slot::Totp, ".");
    submit(&state, &viewer, &headers, outcome, slot, then).await
}

/// The service's lower-case message as the start of a sentence.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
