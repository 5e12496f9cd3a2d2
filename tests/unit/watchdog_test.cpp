#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "core/watchdog.h"

namespace lakerouter {
namespace {

using namespace std::chrono_literals;

// Waits (bounded) for a condition; no assertion here is about speed.
template <typename F>
bool eventually(F&& condition, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return condition();
}

TEST(Watchdog, FiresAtTheDeadlineAndRepeatsUntilRemoved) {
  Watchdog dog(5ms);
  std::atomic<int> fired{0};
  auto id = dog.schedule(Watchdog::Clock::now() + 10ms, [&] { ++fired; });
  ASSERT_TRUE(eventually([&] { return fired >= 2; }));
  dog.remove(id);
  int after = fired;
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(fired, after);
}

TEST(Watchdog, RemovedBeforeTheDeadlineNeverFires) {
  Watchdog dog;
  std::atomic<int> fired{0};
  auto id = dog.schedule(Watchdog::Clock::now() + 50ms, [&] { ++fired; });
  dog.remove(id);
  std::this_thread::sleep_for(80ms);
  EXPECT_EQ(fired, 0);
}

TEST(Watchdog, RemoveWaitsForARunningCallback) {
  Watchdog dog;
  std::atomic<bool> inside{false}, finished{false};
  auto id = dog.schedule(Watchdog::Clock::now(), [&] {
    inside = true;
    std::this_thread::sleep_for(50ms);
    finished = true;
  });
  ASSERT_TRUE(eventually([&] { return inside.load(); }));
  dog.remove(id);
  EXPECT_TRUE(finished);
}

TEST(Watchdog, ManyEntriesFireInDeadlineOrder) {
  Watchdog dog;
  std::mutex mu;
  std::vector<int> order;
  std::vector<Watchdog::Id> ids;
  auto now = Watchdog::Clock::now();
  for (int i : {3, 1, 2}) {
    ids.push_back(dog.schedule(now + std::chrono::milliseconds(10 * i), [&, i] {
      std::lock_guard lock(mu);
      if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
    }));
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return order.size() == 3;
  }));
  for (auto id : ids) dog.remove(id);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace lakerouter
