#include "domain/expiry_alerts.hpp"

#include <algorithm>

#include "domain/notification.hpp"
#include "domain/rules.hpp"

namespace certctl::domain {

namespace {

constexpr std::int64_t us_per_day = 86400LL * 1000000;

bool is_tier(const std::string& t) {
  return t == "informational" || t == "warning" || t == "critical";
}

std::optional<std::int64_t> parse_days(const std::string& key) {
  if (key.empty() || key.size() > 3 || key.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(key);
}

std::vector<std::int64_t> thresholds_of(const events::json_object& policy) {
  if (!policy.is_array("alert_thresholds_days")) return {30, 14, 7, 0};
  auto wrapped = events::json_object::parse("{\"v\":" + policy.raw("alert_thresholds_days") + "}");
  std::vector<std::int64_t> out;
  if (!wrapped) return out;
  // The array holds integers (the descriptor checks it); read them one by one.
  const std::string raw = policy.raw("alert_thresholds_days");
  std::string cur;
  for (char c : raw) {
    if ((c >= '0' && c <= '9') || c == '-') {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::stoll(cur));
      cur.clear();
    }
  }
  return out;
}

}  // namespace

alert_policy alert_policy_of(const events::json_object& policy) {
  alert_policy p;
  p.thresholds_days = thresholds_of(policy);
  if (policy.is_object("alert_severity_map")) {
    for (const auto& [k, v] : policy.str_map("alert_severity_map"))
      if (auto d = parse_days(k); d && is_tier(v)) p.severity_map[*d] = v;
  }
  if (policy.is_object("alert_channels")) {
    auto m = events::json_object::parse(policy.raw("alert_channels"));
    if (m)
      for (const auto& tier : m->keys())
        if (is_tier(tier))
          for (const auto& c : m->str_array(tier.c_str()))
            if (is_notification_channel(c)) p.channels[tier].push_back(c);
  }
  p.failure_only = policy.boolean("notify_on_failure_only", false);
  return p;
}

std::optional<domain_error> check_alert_settings(const events::json_object& policy) {
  const auto thresholds = thresholds_of(policy);
  if (thresholds.size() > 16) return invalid("alert_thresholds_days: at most 16 thresholds");
  for (auto t : thresholds)
    if (t < 0 || t > 365)
      return invalid("alert_thresholds_days: " + std::to_string(t) + " is not 0-365");
  if (policy.has("alert_severity_map")) {
    if (!policy.is_object("alert_severity_map"))
      return invalid("field 'alert_severity_map' must be an object");
    auto m = events::json_object::parse(policy.raw("alert_severity_map"));
    for (const auto& key : m ? m->keys() : std::vector<std::string>{}) {
      if (!parse_days(key))
        return invalid("alert_severity_map: key '" + key + "' is not a number of days");
      if (!m->is_string(key.c_str()) || !is_tier(m->str(key.c_str())))
        return invalid("alert_severity_map." + key + " must be informational, warning or critical");
    }
  }
  if (policy.has("alert_channels")) {
    if (!policy.is_object("alert_channels"))
      return invalid("field 'alert_channels' must be an object");
    auto m = events::json_object::parse(policy.raw("alert_channels"));
    for (const auto& tier : m ? m->keys() : std::vector<std::string>{}) {
      if (!is_tier(tier))
        return invalid("alert_channels: '" + tier +
                       "' is not a severity tier (informational, warning, critical)");
      if (!m->is_string_array(tier.c_str()))
        return invalid("alert_channels." + tier + " must be an array of channel names");
      for (const auto& c : m->str_array(tier.c_str()))
        if (!is_notification_channel(c))
          return invalid("alert_channels." + tier + ": unknown channel '" + c +
                         "' (Email, Webhook, Slack, Teams, PagerDuty, OpsGenie)");
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> crossed_threshold(const alert_policy& p, events::timestamp_us now,
                                              events::timestamp_us expires_at) {
  const std::int64_t left = expires_at - now;
  // Floor division: a certificate 1 us past expiry has -1 days left, not 0.
  const std::int64_t days =
      left >= 0 ? left / us_per_day : -((-left + us_per_day - 1) / us_per_day);
  std::optional<std::int64_t> best;
  for (auto t : p.thresholds_days)
    if (days <= t && (!best || t < *best)) best = t;
  return best;
}

std::string severity_tier(const alert_policy& p, std::int64_t threshold) {
  if (auto it = p.severity_map.find(threshold); it != p.severity_map.end()) return it->second;
  if (threshold <= 0) return "critical";
  if (threshold <= 14) return "warning";
  return "informational";
}

std::vector<std::string> alert_channels(const alert_policy& p, const std::string& tier) {
  std::vector<std::string> out;
  auto it = p.channels.find(tier);
  if (it == p.channels.end() || it->second.empty()) return {"Email"};
  for (const auto& c : it->second)
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  return out;
}

std::string notification_severity(const std::string& tier) {
  return tier == "informational" ? "info" : tier;
}

}  // namespace certctl::domain
