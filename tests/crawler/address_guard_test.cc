#include "crawler/address_guard.h"

#include <gtest/gtest.h>

namespace mw {
namespace {

TEST(AddressGuard, RefusesWhatIsNotGloballyRoutableByDefault) {
  const AddressGuard guard;
  struct Case {
    const char* ip;
    bool allowed;
    const char* why;
  } cases[] = {
      {"93.184.216.34", true, "a public IPv4 address"},
      {"2606:2800:220:1::1", true, "a public IPv6 address"},
      {"127.0.0.1", false, "loopback"},
      {"127.0.0.9", false, "all of 127/8 is loopback"},
      {"::1", false, "IPv6 loopback"},
      {"10.1.2.3", false, "RFC 1918"},
      {"172.16.0.1", false, "RFC 1918"},
      {"172.31.255.255", false, "RFC 1918, last address of 172.16/12"},
      {"172.32.0.1", true, "just outside 172.16/12"},
      {"192.168.1.1", false, "RFC 1918"},
      {"169.254.169.254", false, "link-local: cloud metadata services live here"},
      {"100.64.0.1", false, "CGNAT"},
      {"0.0.0.0", false, "unspecified (Linux connects it to localhost)"},
      {"224.0.0.1", false, "multicast"},
      {"255.255.255.255", false, "broadcast"},
      {"fe80::1", false, "IPv6 link-local"},
      {"fd00::1", false, "IPv6 unique local"},
      {"ff02::1", false, "IPv6 multicast"},
      {"::", false, "IPv6 unspecified"},
      {"::ffff:127.0.0.1", false, "IPv4-mapped loopback"},
      {"::ffff:8.8.8.8", true, "IPv4-mapped public"},
      {"64:ff9b::10.0.0.1", false, "NAT64 of a private address"},
      {"64:ff9b::8.8.8.8", true, "NAT64 of a public address"},
      {"not-an-ip", false, "garbage is refused"},
  };
  for (const Case& c : cases) EXPECT_EQ(guard.Allows(c.ip), c.allowed) << c.ip << ": " << c.why;
}

TEST(AddressGuard, AllowNetOpensExactlyTheGivenNetworks) {
  Cidr one, six;
  ASSERT_EQ(Cidr::Parse("127.0.0.1/32", &one), "");
  ASSERT_EQ(Cidr::Parse("fd00::/8", &six), "");
  const AddressGuard guard({one, six});
  EXPECT_TRUE(guard.Allows("127.0.0.1"));
  EXPECT_FALSE(guard.Allows("127.0.0.9")) << "127.0.0.1/32 opens one address only";
  EXPECT_TRUE(guard.Allows("fd12::1"));
  EXPECT_FALSE(guard.Allows("10.0.0.1"));
}

TEST(AddressGuard, CidrParseErrors) {
  struct Case {
    const char* text;
    const char* error_part;
  } cases[] = {
      {"127.0.0.1/33", "bad prefix"}, {"::1/129", "bad prefix"}, {"10.0.0.0/x", "bad prefix"},
      {"example.test/8", "not an IP"}, {"", "not an IP"},
  };
  for (const Case& c : cases) {
    Cidr cidr;
    EXPECT_NE(Cidr::Parse(c.text, &cidr).find(c.error_part), std::string::npos) << c.text;
  }
  Cidr bare;
  ASSERT_EQ(Cidr::Parse("10.0.0.7", &bare), "");
  EXPECT_EQ(bare.prefix, 128) << "a bare address is a host route";
}

}  // namespace
}  // namespace mw
