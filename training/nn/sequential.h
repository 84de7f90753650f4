// Sequential: layers applied in order, named "0", "1", ... (torch's naming, so state dicts of
// torch.nn.Sequential models load as they are).
#pragma once

#include <memory>
#include <vector>

#include "training/nn/module.h"

namespace onyx::nn {

class Sequential : public Layer {
 public:
  Sequential() : Layer("Sequential") {}
  explicit Sequential(std::vector<std::shared_ptr<Layer>> layers);

  Sequential& add(std::shared_ptr<Layer> layer);
  template <typename L, typename... Args>
  Sequential& emplace(Args&&... args) {
    return add(std::make_shared<L>(std::forward<Args>(args)...));
  }
  size_t size() const { return layers_.size(); }
  Layer& operator[](size_t i) { return *layers_.at(i); }

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace onyx::nn
