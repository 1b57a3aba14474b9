//! An exact sum of `f64` values, rounded once: the same result whatever the order the values
//! arrive in, and whatever the order partial sums are merged in.
//!
//! A float sum computed by adding values one by one depends on the order of the additions,
//! and DataFusion's partitions merge partial sums in the order threads finish: the same
//! query over the same rows gave sums differing in their last digits from run to run (and
//! a view read twice within one task gave two answers). [`ExactSum`] keeps the sum as an
//! exact fixed-point number — every finite `f64` is an integer multiple of 2⁻¹⁰⁷⁴ —, so
//! adding, removing (sliding windows) and merging are exact and commutative, and
//! [`ExactSum::value`] rounds the exact total to the nearest `f64` (ties to even).
//!
//! Representation: the total is `Σ limbs[i] · 2^(32·(lowest + i) − 1074)`, each limb an
//! `i64` holding 32 significant bits plus room for carries; limbs are renormalized (carries
//! propagated) before they could overflow. Only the limbs between the smallest and the
//! largest value seen are stored (a few for typical data, at most about 70).
//!
//! ## Invariants
//! - `add(a); add(b)` and `add(b); add(a)`, and any split into partial sums merged in any
//!   order, give bit-identical [`ExactSum::value`]s and [`ExactSum::to_bytes`].
//! - NaN and infinities follow IEEE addition without its order dependence: any NaN, or both
//!   infinities, give NaN; one kind of infinity gives it. A finite total beyond `f64::MAX`
//!   rounds to an infinity.

/// Exponent of the least significant bit of limb 0 (the smallest subnormal's).
const BASE_EXPONENT: i64 = -1074;
/// Bits of significance per limb.
const LIMB_BITS: i64 = 32;
/// Additions into a limb before carries must be propagated (each adds less than 2³²).
const ADDS_BEFORE_NORMALIZING: u32 = 1 << 29;

/// An exact sum of `f64`s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExactSum {
    /// The limb index of `limbs[0]`.
    lowest: i64,
    limbs: Vec<i64>,
    /// Additions since the limbs were last normalized.
    pending: u32,
    nan: bool,
    positive_infinity: bool,
    negative_infinity: bool,
}

impl ExactSum {
    /// Adds `value` (removes it when `negate`).
    fn accumulate(&mut self, value: f64, negate: bool) {
        if value.is_nan() {
            self.nan = true;
            return;
        }
        if value.is_infinite() {
            // Removing an infinity from a sliding window cannot be undone exactly: it
            // stays recorded, like NaN (windows over infinities are NaN or infinite anyway).
            if (value > 0.0) != negate {
                self.positive_infinity = true;
            } else {
                self.negative_infinity = true;
            }
            return;
        }
        if value == 0.0 {
            return;
        }
        let bits = value.to_bits();
        let biased_exponent = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1 << 52) - 1);
        // value = ±mantissa · 2^(exponent), mantissa an integer below 2⁵³.
        let (mantissa, exponent) =
            if biased_exponent == 0 { (fraction, BASE_EXPONENT) } else { (fraction | (1 << 52), biased_exponent - 1075) };
        let negative = (bits >> 63 == 1) != negate;
        let offset = exponent - BASE_EXPONENT;
        let limb = offset / LIMB_BITS;
        let shifted = u128::from(mantissa) << (offset % LIMB_BITS);
        self.reserve(limb, limb + 2);
        for piece in 0..3 {
            let part = ((shifted >> (piece * LIMB_BITS)) & 0xffff_ffff) as i64;
            if part != 0 {
                let index = (limb + piece - self.lowest) as usize;
                self.limbs[index] += if negative { -part } else { part };
            }
        }
        self.pending += 1;
        if self.pending >= ADDS_BEFORE_NORMALIZING {
            self.normalize();
        }
    }

    /// Adds `value` to the sum.
    pub fn add(&mut self, value: f64) {
        self.accumulate(value, false);
    }

    /// Removes `value`, added before, from the sum (sliding window frames).
    pub fn remove(&mut self, value: f64) {
        self.accumulate(value, true);
    }

    /// Adds another sum (a partial sum of other rows).
    pub fn merge(&mut self, other: &ExactSum) {
        self.nan |= other.nan;
        self.positive_infinity |= other.positive_infinity;
        self.negative_infinity |= other.negative_infinity;
        if other.limbs.is_empty() {
            return;
        }
        let other_highest = other.lowest + other.limbs.len() as i64 - 1;
        self.reserve(other.lowest, other_highest);
        for (index, limb) in other.limbs.iter().enumerate() {
            self.limbs[(other.lowest + index as i64 - self.lowest) as usize] += limb;
        }
        self.pending = self.pending.saturating_add(other.pending).saturating_add(1);
        if self.pending >= ADDS_BEFORE_NORMALIZING {
            self.normalize();
        }
    }

    /// Makes room for limbs `from..=to` (plus two for carries above).
    fn reserve(&mut self, from: i64, to: i64) {
        if self.limbs.is_empty() {
            self.lowest = from;
            self.limbs = vec![0; (to - from + 3) as usize];
            return;
        }
        if from < self.lowest {
            let grow = (self.lowest - from) as usize;
            self.limbs.splice(0..0, std::iter::repeat_n(0, grow));
            self.lowest = from;
        }
        let needed = (to - self.lowest + 3) as usize;
        if needed > self.limbs.len() {
            self.limbs.resize(needed, 0);
        }
    }

    /// Propagates carries so that every limb but the top one lies in `0..2³²` (the top one
    /// carries the sign), and trims zero limbs at both ends.
    fn normalize(&mut self) {
        self.pending = 0;
        let mut carry = 0i64;
        for limb in &mut self.limbs {
            let total = *limb + carry;
            carry = total >> LIMB_BITS;
            *limb = total - (carry << LIMB_BITS);
        }
        if carry != 0 {
            self.limbs.push(carry);
        }
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
        let leading_zeros = self.limbs.iter().take_while(|limb| **limb == 0).count();
        if leading_zeros > 0 {
            self.limbs.drain(..leading_zeros);
            self.lowest += leading_zeros as i64;
        }
        if self.limbs.is_empty() {
            self.lowest = 0;
        }
    }

    /// The exact total rounded to the nearest `f64` (ties to even); `0.0` for an empty sum
    /// (the caller decides whether an empty sum is NULL).
    pub fn value(&self) -> f64 {
        if self.nan || (self.positive_infinity && self.negative_infinity) {
            return f64::NAN;
        }
        if self.positive_infinity {
            return f64::INFINITY;
        }
        if self.negative_infinity {
            return f64::NEG_INFINITY;
        }
        let mut normalized = self.clone();
        normalized.normalize();
        let Some(&top) = normalized.limbs.last() else { return 0.0 };
        let negative = top < 0;
        let mut magnitude: Vec<i64> = normalized.limbs.clone();
        if negative {
            // Two's complement in base 2³²: negate every limb, then propagate carries.
            for limb in &mut magnitude {
                *limb = -*limb;
            }
            let mut carry = 0i64;
            for limb in &mut magnitude {
                let total = *limb + carry;
                carry = total >> LIMB_BITS;
                *limb = total - (carry << LIMB_BITS);
            }
            while magnitude.last() == Some(&0) {
                magnitude.pop();
            }
        }
        let Some(highest) = magnitude.iter().rposition(|limb| *limb != 0) else { return 0.0 };
        // The top three limbs (at least 65 significant bits), with every bit below them
        // folded into the lowest bit ("sticky"), round exactly like the whole number.
        let mut gathered: u128 = 0;
        for offset in 0..3 {
            gathered <<= LIMB_BITS;
            if let Some(index) = highest.checked_sub(offset) {
                gathered |= magnitude[index] as u128;
            }
        }
        let lowest_gathered = highest as i64 - 2;
        if lowest_gathered > 0 && magnitude[..lowest_gathered as usize].iter().any(|limb| *limb != 0) {
            gathered |= 1;
        }
        let exponent = LIMB_BITS * (normalized.lowest + lowest_gathered) + BASE_EXPONENT;
        let rounded = scale_by_power_of_two(gathered as f64, exponent);
        if negative { -rounded } else { rounded }
    }

    /// The sum as bytes, for a partial aggregate's state: equal sums give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut normalized = self.clone();
        normalized.normalize();
        let flags =
            u8::from(normalized.nan) | (u8::from(normalized.positive_infinity) << 1) | (u8::from(normalized.negative_infinity) << 2);
        let mut bytes = Vec::with_capacity(9 + 8 * normalized.limbs.len());
        bytes.push(flags);
        bytes.extend_from_slice(&normalized.lowest.to_le_bytes());
        for limb in &normalized.limbs {
            bytes.extend_from_slice(&limb.to_le_bytes());
        }
        bytes
    }

    /// Reads [`ExactSum::to_bytes`]; `None` for bytes it did not write.
    pub fn from_bytes(bytes: &[u8]) -> Option<ExactSum> {
        let (&flags, rest) = bytes.split_first()?;
        if rest.len() < 8 || (rest.len() - 8) % 8 != 0 {
            return None;
        }
        let lowest = i64::from_le_bytes(rest[..8].try_into().ok()?);
        let limbs = rest[8..].chunks_exact(8).map(|chunk| i64::from_le_bytes(chunk.try_into().expect("8 bytes"))).collect();
        Some(ExactSum {
            lowest,
            limbs,
            pending: 1,
            nan: flags & 1 != 0,
            positive_infinity: flags & 2 != 0,
            negative_infinity: flags & 4 != 0,
        })
    }

    /// Heap and inline bytes, for DataFusion's memory accounting.
    pub fn size(&self) -> usize {
        std::mem::size_of::<Self>() + 8 * self.limbs.capacity()
    }
}

/// `value · 2^exponent`, exact whenever the result is a normal number, and correctly
/// rounded otherwise (the callers' values below the normal range are exact already).
fn scale_by_power_of_two(value: f64, exponent: i64) -> f64 {
    let power = |exponent: i64| -> f64 {
        if exponent >= -1022 { f64::from_bits(((exponent + 1023) as u64) << 52) } else { f64::from_bits(1u64 << (exponent + 1074)) }
    };
    let mut value = value;
    let mut exponent = exponent;
    while exponent > 1023 {
        value *= power(1023);
        exponent -= 1023;
    }
    while exponent < -1074 {
        // Only reached for values whose exact total is tiny (a multiple of 2⁻¹⁰⁷⁴ with
        // few bits): halving in steps stays exact until the result itself is reached.
        value *= power(-1022);
        exponent += 1022;
    }
    value * power(exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_of(values: &[f64]) -> ExactSum {
        let mut sum = ExactSum::default();
        for value in values {
            sum.add(*value);
        }
        sum
    }

    #[test]
    fn sums_are_exact_and_rounded_once() {
        assert_eq!(sum_of(&[0.1, 0.2, 0.3]).value(), 0.6);
        assert_eq!(sum_of(&[0.3, 0.2, 0.1]).value(), 0.6);
        assert_eq!(sum_of(&[1e100, 1.0, -1e100]).value(), 1.0);
        assert_eq!(sum_of(&[1e308, 1e308, -1e308]).value(), 1e308);
        assert_eq!(sum_of(&[f64::MAX, f64::MAX]).value(), f64::INFINITY);
        assert_eq!(sum_of(&[-f64::MAX, -f64::MAX]).value(), f64::NEG_INFINITY);
        assert_eq!(sum_of(&[5e-324, 5e-324]).value(), 1e-323);
        assert_eq!(sum_of(&[-2.5, 1.25]).value(), -1.25);
        assert_eq!(sum_of(&[]).value(), 0.0);
        assert!(sum_of(&[1.0, f64::NAN]).value().is_nan());
        assert!(sum_of(&[f64::INFINITY, f64::NEG_INFINITY]).value().is_nan());
        // Ties round to even: 2⁵³ + 1 is halfway between 2⁵³ and 2⁵³ + 2.
        assert_eq!(sum_of(&[9007199254740992.0, 1.0]).value(), 9007199254740992.0);
        assert_eq!(sum_of(&[9007199254740992.0, 1.0, 1e-300]).value(), 9007199254740994.0);
    }

    #[test]
    fn order_and_merging_do_not_change_the_result() {
        let values: Vec<f64> =
            (0..2000).map(|index| ((index * 7919) % 1009) as f64 * 1.37e-3 - 0.5 + (index as f64).sin() * 1e10).collect();
        let forward = sum_of(&values);
        let mut reversed: Vec<f64> = values.clone();
        reversed.reverse();
        let backward = sum_of(&reversed);
        assert_eq!(forward.value().to_bits(), backward.value().to_bits());
        let mut merged = ExactSum::default();
        for chunk in values.chunks(37).rev() {
            let partial = ExactSum::from_bytes(&sum_of(chunk).to_bytes()).unwrap();
            merged.merge(&partial);
        }
        assert_eq!(merged.value().to_bits(), forward.value().to_bits());
        assert_eq!(merged.to_bytes(), forward.to_bytes());
        let mut windowed = forward.clone();
        for value in &values[..1000] {
            windowed.remove(*value);
        }
        assert_eq!(windowed.value().to_bits(), sum_of(&values[1000..]).value().to_bits());
    }

    #[test]
    fn the_exact_total_is_correctly_rounded() {
        // Against 128-bit integer arithmetic on values that are multiples of 2⁻²⁰.
        let values: Vec<f64> =
            (1..500).map(|index| ((index * 104729) % 100003) as f64 / 1048576.0 * if index % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let exact: i128 = values.iter().map(|value| (value * 1048576.0) as i128).sum();
        assert_eq!(sum_of(&values).value(), exact as f64 / 1048576.0);
    }
}
