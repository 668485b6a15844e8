// An HTTP/1.1 server on 127.0.0.1 for tests: Boost.Beast, a thread per connection, keep-alive.
// It records every request and the most requests it handled at once for each host.
#ifndef MIRRORWATCH_TESTS_CRAWLER_TEST_SERVER_H_
#define MIRRORWATCH_TESTS_CRAWLER_TEST_SERVER_H_

#include <atomic>
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mw::testing {

namespace http = boost::beast::http;

// What the server answers. Besides a normal response it can misbehave on purpose.
struct Reply {
  Reply(int status, std::string content_type, std::string body,
        std::vector<std::pair<std::string, std::string>> headers = {})
      : status(status), content_type(std::move(content_type)), body(std::move(body)),
        headers(std::move(headers)) {}
  // Bytes written as they are (status line, headers, body: anything), then the connection
  // is closed: bad status lines, broken chunking, garbage.
  static Reply Raw(std::string bytes) {
    Reply reply(200, "", "");
    reply.raw = std::move(bytes);
    return reply;
  }

  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string raw;                          // non-empty: see Raw()
  std::chrono::milliseconds drip{0};        // > 0: the body goes out one byte per `drip`
  std::size_t cut_after = std::string::npos;  // close the connection after this many body bytes
                                              // (Content-Length still announces all of them)
  std::chrono::milliseconds stall{0};       // wait this long before answering at all
  bool reset = false;  // with cut_after: end with a TCP reset (RST) instead of a clean close
};

class TestServer {
 public:
  // `handler` gets the Host header (lower-case, port dropped) and the request target.
  using Handler = std::function<Reply(const std::string& host, const std::string& target)>;

  // Listens on `address`:0 (a loopback address: 127.0.0.1 unless a test needs another one).
  explicit TestServer(Handler handler, std::chrono::milliseconds delay = {},
                      const std::string& address = "127.0.0.1")
      : handler_(std::move(handler)), delay_(delay), address_(address), acceptor_(io_) {
    Listen();
  }

  // The same, with a handler that also sees the request's header fields (conditional
  // requests, say).
  using HeadersHandler = std::function<Reply(const std::string& host, const std::string& target,
                                             const http::fields& headers)>;
  explicit TestServer(HeadersHandler handler, std::chrono::milliseconds delay = {},
                      const std::string& address = "127.0.0.1")
      : headers_handler_(std::move(handler)), delay_(delay), address_(address), acceptor_(io_) {
    Listen();
  }

  ~TestServer() {
    stopping_ = true;
    boost::system::error_code ec;
    {
      // Closing the acceptor does not wake a blocking accept(); a connection does.
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket wake(io);
      wake.connect({boost::asio::ip::make_address(address_),
                    static_cast<unsigned short>(port_)}, ec);
      accept_thread_.join();
    }
    acceptor_.close(ec);
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& socket : sockets_) socket->shutdown(boost::asio::socket_base::shutdown_both, ec);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  int port() const { return port_; }
  // "::ADDRESS:PORT": a --connect-to entry that sends every host here.
  std::string connect_to() const { return "::" + address_ + ":" + std::to_string(port_); }
  // Connections accepted so far (a server that must receive nothing checks this is 0).
  int connections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(sockets_.size()) - wake_connections_;
  }
  // Requests whose target was in absolute form ("GET http://host/path"): sent to a proxy.
  int proxied_requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return proxied_;
  }
  // The time each request arrived, per host (politeness tests measure the gaps).
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> arrivals() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return arrivals_;
  }

  // host + target -> how many times it was requested.
  std::map<std::string, int> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::map<std::string, int> peak_per_host() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_;
  }
  int peak_total() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_total_;
  }
  // Connections still being served (0 once every client has closed its side).
  int open_connections() const { return open_connections_; }

 private:
  void Listen() {
    using boost::asio::ip::tcp;
    tcp::endpoint endpoint(boost::asio::ip::make_address(address_), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  void AcceptLoop() {
    while (!stopping_) {
      auto socket = std::make_shared<boost::asio::ip::tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      sockets_.push_back(socket);
      if (stopping_) {
        ++wake_connections_;
        return;
      }
      ++open_connections_;
      threads_.emplace_back([this, socket] {
        Serve(*socket);
        // Close as a real server would, so a client sees the end of a cut or raw reply.
        std::lock_guard<std::mutex> lock(mutex_);
        boost::system::error_code ec;
        socket->shutdown(boost::asio::socket_base::shutdown_both, ec);
        socket->close(ec);
        --open_connections_;
      });
    }
  }

  void Serve(boost::asio::ip::tcp::socket& socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      boost::system::error_code ec;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      std::string host(request[http::field::host]);
      if (auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
      for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string target(request.target());
      const bool proxied = target.rfind("http://", 0) == 0;
      if (proxied) {  // absolute form, as sent to a proxy: keep the path
        const auto slash = target.find('/', 7);
        target = slash == std::string::npos ? "/" : target.substr(slash);
      }
      Enter(host, target, proxied);
      if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
      Reply reply = headers_handler_ ? headers_handler_(host, target, request.base())
                                     : handler_(host, target);
      if (reply.stall.count() > 0) std::this_thread::sleep_for(reply.stall);
      Leave(host);
      if (!reply.raw.empty()) {
        boost::asio::write(socket, boost::asio::buffer(reply.raw), ec);
        return;
      }
      http::response<http::string_body> response(static_cast<http::status>(reply.status),
                                                 request.version());
      response.set(http::field::content_type, reply.content_type);
      for (auto& [name, value] : reply.headers) response.set(name, value);
      response.body() = std::move(reply.body);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      if (reply.drip.count() == 0 && reply.cut_after == std::string::npos) {
        http::write(socket, response, ec);
        if (ec || !request.keep_alive()) return;
        continue;
      }
      // Misbehaving body: headers at once, then the body slowly or cut short.
      http::response_serializer<http::string_body> serializer(response);
      http::write_header(socket, serializer, ec);
      const std::string& body = response.body();
      const std::size_t end = std::min(body.size(), reply.cut_after);
      for (std::size_t i = 0; i < end && !ec && !stopping_; ++i) {
        boost::asio::write(socket, boost::asio::buffer(&body[i], 1), ec);
        if (reply.drip.count() > 0) std::this_thread::sleep_for(reply.drip);
      }
      if (reply.reset) {  // a zero linger time makes close() send RST
        socket.set_option(boost::asio::socket_base::linger(true, 0), ec);
        socket.close(ec);
      }
      return;
    }
  }

  void Enter(const std::string& host, const std::string& target, bool proxied) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[host + target];
    if (proxied) ++proxied_;
    arrivals_[host].push_back(std::chrono::steady_clock::now());
    int& now = active_[host];
    ++now;
    peak_[host] = std::max(peak_[host], now);
    ++active_total_;
    peak_total_ = std::max(peak_total_, active_total_);
  }

  void Leave(const std::string& host) {
    std::lock_guard<std::mutex> lock(mutex_);
    --active_[host];
    --active_total_;
  }

  Handler handler_;
  HeadersHandler headers_handler_;
  std::chrono::milliseconds delay_;
  std::string address_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_connections_{0};
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::map<std::string, int> requests_;
  std::map<std::string, int> active_;
  std::map<std::string, int> peak_;
  int active_total_ = 0;
  int peak_total_ = 0;
  int proxied_ = 0;
  int wake_connections_ = 0;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> arrivals_;
};

}  // namespace mw::testing

#endif  // MIRRORWATCH_TESTS_CRAWLER_TEST_SERVER_H_
