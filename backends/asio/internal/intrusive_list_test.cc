#include "backends/asio/internal/intrusive_list.h"

#include <vector>

#include <gtest/gtest.h>

namespace sluice::asio_backend_internal {
namespace {

struct FirstTag;
struct SecondTag;

struct Item : ListLinks<FirstTag>, ListLinks<SecondTag> {
  explicit Item(int v) : value(v) {}
  int value;
};

using FirstList = IntrusiveList<Item, FirstTag>;
using SecondList = IntrusiveList<Item, SecondTag>;

std::vector<int> values(const FirstList& list) {
  std::vector<int> out;
  list.for_each([&](Item& i) { out.push_back(i.value); });
  return out;
}

TEST(IntrusiveListTest, PushBackKeepsInsertionOrder) {
  Item a(1), b(2), c(3);
  FirstList list;
  list.push_back(a);
  list.push_back(b);
  list.push_back(c);
  EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(list.size(), 3u);
  list.clear();
}

TEST(IntrusiveListTest, RemoveUnlinksFromAnyPosition) {
  Item a(1), b(2), c(3);
  FirstList list;
  list.push_back(a);
  list.push_back(b);
  list.push_back(c);
  list.remove(b);
  EXPECT_FALSE(static_cast<ListLinks<FirstTag>&>(b).linked());
  EXPECT_EQ(values(list), (std::vector<int>{1, 3}));
  list.remove(a);
  list.remove(c);
  EXPECT_TRUE(list.empty());
  EXPECT_TRUE(values(list).empty());
}

TEST(IntrusiveListTest, RemoveOfUnlinkedItemIsNoOp) {
  Item a(1), b(2);
  FirstList list;
  list.push_back(a);
  list.remove(b);
  list.remove(a);
  list.remove(a);
  EXPECT_EQ(list.size(), 0u);
}

TEST(IntrusiveListTest, ClearUnlinksEveryItem) {
  Item a(1), b(2);
  FirstList list;
  list.push_back(a);
  list.push_back(b);
  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(static_cast<ListLinks<FirstTag>&>(a).linked());
  EXPECT_FALSE(static_cast<ListLinks<FirstTag>&>(b).linked());
  list.push_back(b);  // reusable afterwards
  EXPECT_EQ(values(list), (std::vector<int>{2}));
  list.clear();
}

TEST(IntrusiveListTest, AnItemIsInOneListPerTagIndependently) {
  Item a(1), b(2);
  FirstList first;
  SecondList second;
  first.push_back(a);
  first.push_back(b);
  second.push_back(b);
  first.remove(b);
  EXPECT_EQ(values(first), (std::vector<int>{1}));
  EXPECT_EQ(second.size(), 1u);
  EXPECT_TRUE(static_cast<ListLinks<SecondTag>&>(b).linked());
  first.clear();
  second.clear();
}

TEST(IntrusiveListTest, DestroyingTheListUnlinksItsItems) {
  Item a(1);
  {
    FirstList list;
    list.push_back(a);
  }
  EXPECT_FALSE(static_cast<ListLinks<FirstTag>&>(a).linked());
}

}  // namespace
}  // namespace sluice::asio_backend_internal
