#pragma once
/// The Notifications and Digest operations of the API:
///   GET  /api/v1/notifications            list (status, channel, certificate_id filters)
///   GET  /api/v1/notifications/{id}
///   POST /api/v1/notifications/{id}/read     {"status":"read"}
///   POST /api/v1/notifications/{id}/requeue  dead -> pending; {"status":"requeued"}
///   GET  /api/v1/digest/preview           the digest as HTML (no email sent)
///   POST /api/v1/digest/send              mail the digest now; 503 without the Email channel,
///                                         502 when recipients or the SMTP server fail

#include "actors/runtime/entity_runtime.hpp"
#include "actors/schedulers/digest.hpp"
#include "gateways/http/router.hpp"
#include "infra/clock.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct notification_context {
  actors::entity_runtime& runtime;
  sql::database& db;
  const infra::clock& clock;
  /// nullptr: no Email channel on this server, so the digest cannot be sent (503).
  schedulers::digest_sender* digest = nullptr;
};

void add_notification_routes(gateways::http::router& r, notification_context& ctx);

}  // namespace certctl::gateways::rest
