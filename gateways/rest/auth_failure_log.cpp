#include "gateways/rest/auth_failure_log.hpp"

#include "events/json.hpp"

namespace certctl::gateways::rest {

void record_auth_failure(store::event_store& store, const http::auth_event& e) {
  store::append_request req;
  req.stream_id = "security-auth";
  events::proposed_event pe;
  pe.type = "auth.denied";
  events::json_object p;
  p.set("method", e.method)
      .set("path", e.path)
      .set("reason", std::string(http::to_string(e.reason)));
  pe.payload = p.dump();
  pe.principal = "anonymous";
  pe.source_address = e.remote_addr;
  pe.correlation_id = e.request_id;
  req.events.push_back(std::move(pe));
  store.append_async(std::move(req), [](store::store_result<store::append_result>) {});
}

}  // namespace certctl::gateways::rest
