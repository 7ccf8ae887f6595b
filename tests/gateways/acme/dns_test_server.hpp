#pragma once
/// A tiny authoritative-style DNS server for tests, on 127.0.0.1 (UDP and TCP, same port).
/// It is written independently of gateways/acme/dns_message so the codec is tested against
/// another implementation: it reads the question by hand and answers TXT (and CNAME) records
/// from a table, with compression pointers, NXDOMAIN for unknown names, and optionally a
/// truncated UDP answer (forcing the client over TCP) or no answer at all.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace certctl::testing {

class dns_test_server {
 public:
  dns_test_server();
  ~dns_test_server();
  dns_test_server(const dns_test_server&) = delete;
  dns_test_server& operator=(const dns_test_server&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// TXT values of `name` (lower case, no trailing dot); replaces earlier ones.
  void set_txt(const std::string& name, std::vector<std::string> values);
  /// `name` is an alias of `target` (answered as CNAME + the target's TXT records).
  void set_cname(const std::string& name, const std::string& target);

  std::atomic<bool> truncate_udp{false};  ///< UDP answers carry TC and no records
  std::atomic<bool> silent{false};        ///< drop every query
  std::atomic<int> udp_queries{0};
  std::atomic<int> tcp_queries{0};

 private:
  std::string answer(const std::string& query, bool udp);
  void serve_udp();
  void serve_tcp();

  int udp_fd_ = -1;
  int tcp_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> txt_;
  std::map<std::string, std::string> cname_;
  std::thread udp_thread_;
  std::thread tcp_thread_;
};

}  // namespace certctl::testing
