#include "crawler/address_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace mw {
namespace {

using Ip = std::array<std::uint8_t, 16>;

Ip MapV4(const std::uint8_t v4[4]) {
  Ip ip{};
  ip[10] = ip[11] = 0xff;
  std::memcpy(&ip[12], v4, 4);
  return ip;
}

bool ParseIp(std::string_view text, Ip* out) {
  const std::string s(text);
  std::uint8_t v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    *out = MapV4(v4);
    return true;
  }
  return inet_pton(AF_INET6, s.c_str(), out->data()) == 1;
}

bool IsV4Mapped(const Ip& ip) {
  for (int i = 0; i < 10; ++i) {
    if (ip[i] != 0) return false;
  }
  return ip[10] == 0xff && ip[11] == 0xff;
}

// Networks no crawl of the public web has business connecting to.
const std::vector<Cidr>& DeniedNetworks() {
  static const std::vector<Cidr> denied = [] {
    std::vector<Cidr> nets;
    for (const char* text :
         {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
          "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
          "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
          "fe80::/10", "fc00::/7", "ff00::/8", "2001:db8::/32", "100::/64"}) {
      Cidr cidr;
      Cidr::Parse(text, &cidr);
      nets.push_back(cidr);
    }
    return nets;
  }();
  return denied;
}

}  // namespace

std::string Cidr::Parse(std::string_view text, Cidr* out) {
  const auto slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  Cidr cidr;
  if (!ParseIp(address, &cidr.address)) return "not an IP address: " + std::string(address);
  const bool v4 = address.find(':') == std::string_view::npos;
  const int max_bits = v4 ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (ec != std::errc() || end != digits.data() + digits.size() || bits < 0 ||
        bits > max_bits) {
      return "bad prefix length in " + std::string(text);
    }
  }
  cidr.prefix = v4 ? bits + 96 : bits;
  *out = cidr;
  return "";
}

bool Cidr::Contains(const Ip& ip) const {
  int bits = prefix;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((ip[i] & mask) != (address[i] & mask)) return false;
  }
  return true;
}

bool AddressGuard::Allows(const Ip& ip) const {
  for (const Cidr& cidr : allowed_) {
    if (cidr.Contains(ip)) return true;
  }
  // 64:ff9b::/96 (NAT64) carries an IPv4 address in its last four bytes: judge that one.
  static const Ip kNat64 = {0x00, 0x64, 0xff, 0x9b};
  if (std::memcmp(ip.data(), kNat64.data(), 12) == 0) return Allows(MapV4(&ip[12]));
  if (!IsV4Mapped(ip) && (ip[0] & 0xe0) != 0x20) return false;  // only 2000::/3 is global
  for (const Cidr& cidr : DeniedNetworks()) {
    if (cidr.Contains(ip)) return false;
  }
  return true;
}

bool AddressGuard::Allows(const sockaddr* address) const {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return Allows(MapV4(reinterpret_cast<const std::uint8_t*>(&in->sin_addr)));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    Ip ip;
    std::memcpy(ip.data(), &in6->sin6_addr, 16);
    return Allows(ip);
  }
  return false;
}

bool AddressGuard::Allows(std::string_view text) const {
  Ip ip;
  return ParseIp(text, &ip) && Allows(ip);
}

}  // namespace mw
