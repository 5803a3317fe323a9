// Prints describe_trainings() of the training core as built for this
// program's instruction set (one program per -march level).
#include "isa/train_bits.hpp"

#include <iostream>

int main() {
  std::cout << fepflow::test::describe_trainings();
  return 0;
}
