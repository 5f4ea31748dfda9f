// A one-thread wake-up for coroutines on a worker: Notify() wakes every waiter (or the
// next Wait() returns at once if nobody waits yet). Waiters re-check their condition in
// a loop, so a spurious wake-up is harmless. Built on a timer that never expires and is
// cancelled to wake.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace gatehouse::proxy::upstream {

class Signal {
 public:
  explicit Signal(boost::asio::any_io_executor ex)
      : timer_(ex, boost::asio::steady_timer::time_point::max()) {}

  boost::asio::awaitable<void> Wait() {
    if (!pending_) co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    pending_ = false;
  }

  // Waits for a notification or until `deadline`; false on timeout.
  boost::asio::awaitable<bool> WaitUntil(boost::asio::steady_timer::time_point deadline) {
    using namespace boost::asio::experimental::awaitable_operators;
    if (pending_ || deadline == boost::asio::steady_timer::time_point::max()) {
      co_await Wait();
      co_return true;
    }
    boost::asio::steady_timer limit(timer_.get_executor(), deadline);
    auto which = co_await (timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)) ||
                           limit.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
    if (which.index() == 1 && !pending_) co_return false;
    pending_ = false;
    co_return true;
  }

  void Notify() {
    pending_ = true;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  bool pending_ = false;
};

}  // namespace gatehouse::proxy::upstream
