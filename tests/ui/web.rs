//! A browser-like HTTP client for the pages: keeps cookies by hand, reads the CSRF
//! token out of forms, does not follow redirects (tests look at them).

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode, redirect};
use std::collections::BTreeMap;

pub struct Browser {
    pub base: String,
    pub client: Client,
    pub cookies: BTreeMap<String, String>,
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The value of the hidden `csrf` field of the first form in `html`.
pub fn csrf_in(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, resp: &Response) {
        for v in resp.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&resp);
        resp
    }

    pub async fn get_html(&mut self, path: &str) -> (StatusCode, String) {
        let resp = self.get(path).await;
        let status = resp.status();
        (status, resp.text().await.unwrap())
    }

    /// A form POST as a same-origin browser sends it.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", self.base.clone())
            .header("sec-fetch-site", "same-origin")
            .body(form_body(fields))
            .send()
            .await
            .unwrap();
        self.keep_cookies(&resp);
        resp
    }

    /// Logs in through the form; panics unless it redirects away from /login.
    pub async fn login(&mut self, email: &str, password: &str) {
        let (_, html) = self.get_html("/login").await;
        let csrf = csrf_in(&html);
        let resp = self
            .post(
                "/login",
                &[("csrf", &csrf), ("email", email), ("password", password)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login as {email}");
        assert_eq!(resp.headers()[LOCATION], "/");
        assert!(self.cookies.contains_key("automa_session"));
    }

    /// The CSRF token of the session, read from a page's forms.
    pub async fn csrf(&mut self) -> String {
        let (status, html) = self.get_html("/").await;
        assert_eq!(status, StatusCode::OK);
        csrf_in(&html)
    }
}
