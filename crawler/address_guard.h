// The SSRF guard: which addresses the crawler may connect to.
#ifndef MIRRORWATCH_CRAWLER_ADDRESS_GUARD_H_
#define MIRRORWATCH_CRAWLER_ADDRESS_GUARD_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace mw {

// An IPv4 or IPv6 network, e.g. 127.0.0.1/32 or fe80::/10. IPv4 is held as IPv4-mapped IPv6.
struct Cidr {
  std::array<std::uint8_t, 16> address{};
  int prefix = 0;  // bits, 0..128 (IPv4 prefixes are stored +96)

  // Parses "ADDRESS/BITS" or a bare address (a host route). Returns an error message, empty on
  // success.
  static std::string Parse(std::string_view text, Cidr* out);
  bool Contains(const std::array<std::uint8_t, 16>& ip) const;
};

// Decides, on the address a socket is about to connect to, whether the crawler may connect.
// By default it refuses every address that is not globally routable -- loopback, private
// (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT (100.64/10), multicast,
// unspecified, broadcast, reserved, and IPv4 embedded in IPv6 in those ranges -- so a link on a
// hostile page cannot reach the operator's own network. `allowed` opens exactly those networks.
// Checking the connected address (not the URL) defeats DNS rebinding and redirects.
// Immutable; thread-safe.
class AddressGuard {
 public:
  explicit AddressGuard(std::vector<Cidr> allowed = {}) : allowed_(std::move(allowed)) {}

  // True when connecting to `address` (AF_INET or AF_INET6) is allowed. Other families: false.
  bool Allows(const sockaddr* address) const;
  // Same, for a textual address ("127.0.0.1", "::1"); false when it is not an IP address.
  bool Allows(std::string_view ip) const;

 private:
  bool Allows(const std::array<std::uint8_t, 16>& ip) const;
  std::vector<Cidr> allowed_;
};

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_ADDRESS_GUARD_H_
