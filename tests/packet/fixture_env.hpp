// The fixture (cases::Fixture) as a GoogleTest environment: built once per
// test program, before the first test; `ready` receives its instance, and
// `done` runs before it goes.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "cases.hpp"

namespace cases {

class FixtureEnv : public ::testing::Environment {
 public:
  FixtureEnv(std::string name, std::function<void(srv6::Instance&)> ready,
             std::function<void()> done = {})
      : name_(std::move(name)), ready_(std::move(ready)), done_(std::move(done)) {}
  void SetUp() override {
    fixture_ = std::make_unique<Fixture>(name_);
    ready_(fixture_->instance());
  }
  void TearDown() override {
    if (done_) done_();
    fixture_.reset();
  }

 private:
  std::string name_;
  std::function<void(srv6::Instance&)> ready_;
  std::function<void()> done_;
  std::unique_ptr<Fixture> fixture_;
};

}  // namespace cases
