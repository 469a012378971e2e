"""How a refund's reversal is shared between the credited parties (integers only)."""

from __future__ import annotations

from collections import defaultdict


def reversal_amounts(parties: list[tuple[int, int]], reversed_so_far: dict[int, int],
                     cumulative_refunded: int, trade_amount: int) -> list[int]:
    """Grams to take back from each credited party for this refund.

    The trade's cumulative reversal is its credit times the cumulative refunded share, rounded
    half up (integers only); this refund takes what that adds to earlier reversals, split
    between the parties in proportion to their credits. No party ever gives back more than it
    was credited, the amounts add up exactly, and a full refund reverses the credit exactly.
    """
    credited = sum(m for _, m in parties)
    if credited <= 0:
        return [0] * len(parties)
    done = {a: 0 for a, _ in parties}
    done.update(reversed_so_far)
    target = (credited * cumulative_refunded * 2 + trade_amount) // (2 * trade_amount)
    this_total = max(0, target - sum(reversed_so_far.values()))
    # Parties may share an account (buyer == seller): track room per line, by order.
    room = []
    seen: dict[int, int] = defaultdict(int)
    for a, m in parties:
        already = min(m, max(0, done.get(a, 0) - seen[a]))
        seen[a] += already
        room.append(m - already)
    this_total = min(this_total, sum(room))
    amounts = []
    for (_, m), r in zip(parties, room, strict=True):
        want = (this_total * m * 2 + credited) // (2 * credited)
        amounts.append(max(0, min(want, r)))
    diff = this_total - sum(amounts)
    for i in range(len(amounts)):
        if diff > 0:
            step = min(diff, room[i] - amounts[i])
        elif diff < 0:
            step = -min(-diff, amounts[i])
        else:
            break
        amounts[i] += step
        diff -= step
    return amounts
