#pragma once
/// The audit side of the router's auth hook (http::router_options::on_auth_failure): a failed
/// or denied request becomes an `auth.denied` event in stream "security-auth", so the audit
/// trail shows who tried what from where (DESIGN §7). It appends an event; it is not a read.

#include "gateways/http/router.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::gateways::rest {

/// Appends the event without waiting for it: the request never blocks on the database, and a
/// failed append loses only this record, never the answer to the request.
void record_auth_failure(store::event_store& store, const gateways::http::auth_event& e);

}  // namespace certctl::gateways::rest
