#include "controller/infra/address_pool.h"

#include <gtest/gtest.h>

namespace gatehouse::infra {
namespace {

TEST(AddressPoolTest, ParsesRangesAndAllocatesLowestFree) {
  auto pool = AddressPool::Parse("10.245.0.254-10.245.1.1");
  ASSERT_TRUE(pool.ok());
  EXPECT_FALSE(pool->empty());
  EXPECT_TRUE(pool->Contains("10.245.0.255"));
  EXPECT_TRUE(pool->Contains("10.245.1.1"));
  EXPECT_FALSE(pool->Contains("10.245.1.2"));
  EXPECT_FALSE(pool->Contains("10.245.0.253"));
  EXPECT_FALSE(pool->Contains("not-an-ip"));
  EXPECT_EQ(pool->Allocate({}), "10.245.0.254");
  EXPECT_EQ(pool->Allocate({"10.245.0.254", "10.245.0.255"}), "10.245.1.0");
  EXPECT_EQ(pool->Allocate({"10.245.0.254", "10.245.0.255", "10.245.1.0", "10.245.1.1"}),
            std::nullopt);
}

TEST(AddressPoolTest, SingleAddressAndEmpty) {
  auto one = AddressPool::Parse("127.0.0.1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->Allocate({}), "127.0.0.1");
  auto none = AddressPool::Parse("");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(none->Allocate({}), std::nullopt);
  EXPECT_FALSE(none->Contains("127.0.0.1"));
}

TEST(AddressPoolTest, RejectsMalformedRanges) {
  EXPECT_FALSE(AddressPool::Parse("10.0.0.9-10.0.0.1").ok());
  EXPECT_FALSE(AddressPool::Parse("10.0.0.1-").ok());
  EXPECT_FALSE(AddressPool::Parse("fe80::1-fe80::2").ok());
  EXPECT_FALSE(AddressPool::Parse("10.0.0.300").ok());
}

}  // namespace
}  // namespace gatehouse::infra
