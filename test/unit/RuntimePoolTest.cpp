//===- RuntimePoolTest.cpp - linac_pool and linac_pool_parallel_for -------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/linac.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

/// Counts how often each index ran and checks the ranges handed out.
struct Coverage {
  explicit Coverage(int64_t n) : hits(new std::atomic<int>[n]), n(n) {
    for (int64_t i = 0; i < n; ++i)
      hits[i] = 0;
  }
  static void task(void *closure, int64_t begin, int64_t end) {
    auto *self = static_cast<Coverage *>(closure);
    if (begin < 0 || end > self->n || begin >= end)
      self->badRanges.fetch_add(1);
    for (int64_t i = begin; i < end && i >= 0 && i < self->n; ++i)
      self->hits[i].fetch_add(1);
    self->calls.fetch_add(1);
  }
  bool everyIndexOnce() const {
    for (int64_t i = 0; i < n; ++i)
      if (hits[i].load() != 1)
        return false;
    return badRanges.load() == 0;
  }

  std::unique_ptr<std::atomic<int>[]> hits;
  int64_t n;
  std::atomic<int> calls{0};
  std::atomic<int> badRanges{0};
};

struct PoolDeleter {
  void operator()(linac_pool *pool) const { linac_pool_destroy(pool); }
};
using PoolPtr = std::unique_ptr<linac_pool, PoolDeleter>;

PoolPtr makePool(int32_t threads) {
  linac_error err;
  PoolPtr pool(linac_pool_create(threads, &err));
  EXPECT_TRUE(pool) << err.message;
  return pool;
}

TEST(RuntimePool, EveryIndexExactlyOnceRepeatedly) {
  for (int32_t threads = 1; threads <= 4; ++threads) {
    PoolPtr pool = makePool(threads);
    ASSERT_TRUE(pool);
    EXPECT_EQ(linac_pool_threads(pool.get()), threads);
    for (int64_t n : {0, 1, 7, 1000}) {
      for (int repeat = 0; repeat < 1000; ++repeat) {
        Coverage coverage(n);
        linac_pool_parallel_for(pool.get(), n, Coverage::task, &coverage);
        ASSERT_TRUE(coverage.everyIndexOnce())
            << "threads " << threads << " n " << n << " repeat " << repeat;
        // A pool hands out one index per call (grain 1); a 1-thread pool
        // runs the whole range in one call.
        int expectedCalls = n == 0 ? 0 : threads == 1 ? 1 : int(n);
        ASSERT_EQ(coverage.calls.load(), expectedCalls);
      }
    }
  }
}

TEST(RuntimePool, NullPoolRunsSeriallyAsOneRange) {
  struct Seen {
    int calls = 0;
    int64_t begin = -1, end = -1;
    std::thread::id thread;
  } seen;
  linac_pool_parallel_for(
      nullptr, 5,
      [](void *closure, int64_t begin, int64_t end) {
        auto *s = static_cast<Seen *>(closure);
        ++s->calls;
        s->begin = begin;
        s->end = end;
        s->thread = std::this_thread::get_id();
      },
      &seen);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.begin, 0);
  EXPECT_EQ(seen.end, 5);
  EXPECT_EQ(seen.thread, std::this_thread::get_id());

  Coverage none(0);
  linac_pool_parallel_for(nullptr, 0, Coverage::task, &none);
  linac_pool_parallel_for(nullptr, -3, Coverage::task, &none);
  EXPECT_EQ(none.calls.load(), 0);
  EXPECT_EQ(linac_pool_threads(nullptr), 1);
  linac_pool_destroy(nullptr);
}

/// Each of the n tasks waits until all n have started. That can only finish
/// if n threads run them at once, which proves the workers take part.
TEST(RuntimePool, TasksRunConcurrentlyOnDistinctThreads) {
  constexpr int kThreads = 4;
  PoolPtr pool = makePool(kThreads);
  ASSERT_TRUE(pool);
  struct Rendezvous {
    std::atomic<int> arrived{0};
    std::atomic<bool> timedOut{false};
    std::mutex mutex;
    std::set<std::thread::id> threads;
  } rendezvous;
  linac_pool_parallel_for(
      pool.get(), kThreads,
      [](void *closure, int64_t, int64_t) {
        auto *r = static_cast<Rendezvous *>(closure);
        {
          std::lock_guard<std::mutex> lock(r->mutex);
          r->threads.insert(std::this_thread::get_id());
        }
        r->arrived.fetch_add(1);
        auto deadline =
            std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (r->arrived.load() < kThreads) {
          if (std::chrono::steady_clock::now() > deadline) {
            r->timedOut = true;
            return;
          }
          std::this_thread::yield();
        }
      },
      &rendezvous);
  EXPECT_FALSE(rendezvous.timedOut.load());
  EXPECT_EQ(rendezvous.threads.size(), size_t(kThreads));
}

/// A parallel_for inside a task runs inline on the task's thread as one
/// range, instead of waiting for workers that are busy with the outer job.
TEST(RuntimePool, NestedCallsRunInline) {
  PoolPtr pool = makePool(3);
  ASSERT_TRUE(pool);
  struct Outer {
    linac_pool *pool;
    std::atomic<int> innerCalls{0};
    std::atomic<int> innerElsewhere{0};
    std::atomic<int> innerWrongRange{0};
    std::atomic<int> innerIndices{0};
  } outer;
  outer.pool = pool.get();
  linac_pool_parallel_for(
      pool.get(), 16,
      [](void *closure, int64_t, int64_t) {
        auto *o = static_cast<Outer *>(closure);
        struct Inner {
          Outer *outer;
          std::thread::id thread;
        } inner{o, std::this_thread::get_id()};
        linac_pool_parallel_for(
            o->pool, 10,
            [](void *closure, int64_t begin, int64_t end) {
              auto *i = static_cast<Inner *>(closure);
              i->outer->innerCalls.fetch_add(1);
              if (std::this_thread::get_id() != i->thread)
                i->outer->innerElsewhere.fetch_add(1);
              if (begin != 0 || end != 10)
                i->outer->innerWrongRange.fetch_add(1);
              i->outer->innerIndices.fetch_add(int(end - begin));
            },
            &inner);
      },
      &outer);
  EXPECT_EQ(outer.innerCalls.load(), 16);
  EXPECT_EQ(outer.innerElsewhere.load(), 0);
  EXPECT_EQ(outer.innerWrongRange.load(), 0);
  EXPECT_EQ(outer.innerIndices.load(), 160);

  // The pool is still usable from outside afterwards.
  Coverage coverage(100);
  linac_pool_parallel_for(pool.get(), 100, Coverage::task, &coverage);
  EXPECT_TRUE(coverage.everyIndexOnce());
}

/// Several threads sharing one pool: their calls are serialized, and each
/// still covers its own range exactly once.
TEST(RuntimePool, ConcurrentCallersShareOnePool) {
  PoolPtr pool = makePool(3);
  ASSERT_TRUE(pool);
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c)
    callers.emplace_back([&, c] {
      for (int repeat = 0; repeat < 200; ++repeat) {
        Coverage coverage(17 + c * 13);
        linac_pool_parallel_for(pool.get(), coverage.n, Coverage::task,
                                &coverage);
        if (!coverage.everyIndexOnce())
          failures.fetch_add(1);
      }
    });
  for (std::thread &caller : callers)
    caller.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(RuntimePool, CreateAndDestroyManyTimes) {
  for (int i = 0; i < 50; ++i) {
    PoolPtr pool = makePool(1 + i % 4);
    ASSERT_TRUE(pool);
    if (i % 2) {
      Coverage coverage(9);
      linac_pool_parallel_for(pool.get(), 9, Coverage::task, &coverage);
      EXPECT_TRUE(coverage.everyIndexOnce());
    }
  }
}

TEST(RuntimePool, DefaultSizeIsTheHardware) {
  PoolPtr pool = makePool(0);
  ASSERT_TRUE(pool);
  unsigned hardware = std::thread::hardware_concurrency();
  EXPECT_EQ(linac_pool_threads(pool.get()),
            hardware == 0 ? 1 : int32_t(std::min(hardware, 1024u)));
  PoolPtr negative = makePool(-5);
  ASSERT_TRUE(negative);
  EXPECT_EQ(linac_pool_threads(negative.get()), linac_pool_threads(pool.get()));
}

TEST(RuntimePool, AbsurdSizeIsRefused) {
  linac_error err;
  EXPECT_EQ(linac_pool_create(100000, &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err.message).find("100000"), std::string::npos)
      << err.message;
  EXPECT_EQ(linac_pool_create(100000, nullptr), nullptr);
}

TEST(RuntimePool, SuccessClearsTheError) {
  linac_error err;
  err.code = LINAC_ERROR_INTERNAL;
  std::snprintf(err.message, sizeof(err.message), "stale");
  PoolPtr pool(linac_pool_create(2, &err));
  ASSERT_TRUE(pool);
  EXPECT_EQ(err.code, LINAC_OK);
  EXPECT_STREQ(err.message, "");
}

/// Results written by tasks on workers are visible to the caller when
/// parallel_for returns.
TEST(RuntimePool, ResultsAreVisibleAfterReturn) {
  PoolPtr pool = makePool(4);
  ASSERT_TRUE(pool);
  std::vector<int64_t> values(4096, 0);
  for (int repeat = 0; repeat < 100; ++repeat) {
    linac_pool_parallel_for(
        pool.get(), int64_t(values.size()),
        [](void *closure, int64_t begin, int64_t end) {
          auto *v = static_cast<std::vector<int64_t> *>(closure);
          for (int64_t i = begin; i < end; ++i)
            (*v)[size_t(i)] += i;
        },
        &values);
  }
  for (size_t i = 0; i < values.size(); ++i)
    ASSERT_EQ(values[i], int64_t(i) * 100) << i;
}

} // namespace
