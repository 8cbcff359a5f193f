//! Native test doubles for [`crate::Http`] and [`crate::Config`], so a provider's
//! protocol code is tested without a host (integration tests run it against real
//! loopback servers instead).

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::host::{Config, Http};
use crate::model::{HttpError, Request, Response};

type Handler = Box<dyn Fn(&Request) -> Result<Response, HttpError>>;

/// Answers every request with a closure and records what was sent.
pub struct FakeHttp {
    handler: Handler,
    sent: RefCell<Vec<Request>>,
}

impl std::fmt::Debug for FakeHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeHttp")
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl FakeHttp {
    /// Answers with `respond(request)`.
    pub fn new(respond: impl Fn(&Request) -> Response + 'static) -> FakeHttp {
        FakeHttp {
            handler: Box::new(move |r| Ok(respond(r))),
            sent: RefCell::default(),
        }
    }

    /// Fails every request with `error`.
    pub fn failing(error: HttpError) -> FakeHttp {
        FakeHttp {
            handler: Box::new(move |_| Err(error.clone())),
            sent: RefCell::default(),
        }
    }

    /// Everything sent so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.sent.borrow().clone()
    }

    /// The one request sent; panics when there were more or none.
    pub fn only_request(&self) -> Request {
        let sent = self.sent.borrow();
        assert_eq!(sent.len(), 1, "expected exactly one request, got {sent:?}");
        sent[0].clone()
    }
}

impl Http for FakeHttp {
    fn send(&self, request: Request) -> Result<Response, HttpError> {
        let answer = (self.handler)(&request);
        self.sent.borrow_mut().push(request);
        answer
    }
}

/// Configuration from a fixed list of pairs.
#[derive(Debug, Clone, Default)]
pub struct MapConfig(BTreeMap<String, String>);

impl MapConfig {
    pub fn new(pairs: &[(&str, &str)]) -> MapConfig {
        MapConfig(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }
}

impl Config for MapConfig {
    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}
