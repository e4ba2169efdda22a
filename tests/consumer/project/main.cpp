// SPDX-License-Identifier: MIT
// A user's first program: one lane, one message.
#include "core/lane.h"

#include <cstdio>

int main()
{
    courier::lane<int> numbers(4);
    auto tx = numbers.sender();
    auto rx = numbers.receiver();
    if (!tx.try_send(42))
        return 1;
    const auto received = rx.try_receive();
    std::printf("consumer received %d\n", received.value_or(-1));
    return received == 42 ? 0 : 1;
}
