//! Picking the next token from logits: greedy (what Précis asks for), with an optional repeat
//! penalty, or sampled at a temperature (with top-p). The rules are candle-transformers'
//! `LogitsProcessor` and `apply_repeat_penalty`, ported (the same seeded `StdRng` and
//! `WeightedIndex`) so the engine does not link candle-transformers; only a sampled token can
//! differ, where the probabilities' sum rounds differently from candle's SIMD sum.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::decoder::argmax;
use crate::{Error, GenerationParams, LogProb, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sampling {
    ArgMax,
    All { temperature: f64 },
    TopP { p: f64, temperature: f64 },
}

/// Picks tokens from logits: greedy without allocation, or sampled.
pub(crate) struct Sampler {
    sampling: Sampling,
    repeat_penalty: f32,
    repeat_last_n: usize,
    rng: StdRng,
    /// The model's log-probability of every token picked so far (its confidence).
    logprob: LogProb,
}

impl Sampler {
    pub(crate) fn new(params: &GenerationParams) -> Self {
        let sampling = match params.temperature {
            None => Sampling::ArgMax,
            Some(t) if t <= 0.0 => Sampling::ArgMax,
            Some(temperature) => match params.top_p {
                Some(p) => Sampling::TopP { p, temperature },
                None => Sampling::All { temperature },
            },
        };
        Self {
            sampling,
            repeat_penalty: params.repeat_penalty,
            repeat_last_n: params.repeat_last_n,
            rng: StdRng::seed_from_u64(params.seed),
            logprob: LogProb::default(),
        }
    }

    /// The log-probabilities of the tokens picked so far, under the model's own distribution
    /// (temperature 1, no repeat penalty): how sure the model was of what it wrote.
    pub(crate) fn logprob(&self) -> LogProb {
        self.logprob
    }

    /// Whether it picks the likeliest token (repeat penalty or not) rather than sampling.
    pub(crate) fn greedy(&self) -> bool {
        self.sampling == Sampling::ArgMax
    }

    /// The next token after `generated` (the tokens of this answer so far, which the repeat
    /// penalty looks at).
    pub(crate) fn next(&mut self, logits: &[f32], generated: &[u32]) -> Result<u32> {
        let token = self.pick(logits, generated)?;
        self.logprob.add(log_probability(logits, token));
        Ok(token)
    }

    fn pick(&mut self, logits: &[f32], generated: &[u32]) -> Result<u32> {
        if self.sampling == Sampling::ArgMax && self.repeat_penalty == 1.0 {
            return Ok(argmax(logits));
        }
        let mut logits = logits.to_vec();
        if self.repeat_penalty != 1.0 {
            let start = generated.len().saturating_sub(self.repeat_last_n);
            apply_repeat_penalty(&mut logits, self.repeat_penalty, &generated[start..]);
        }
        match self.sampling {
            Sampling::ArgMax => Ok(argmax(&logits)),
            Sampling::All { temperature } => {
                let prs = probabilities(&logits, temperature);
                self.multinomial(&prs)
            }
            Sampling::TopP { p, temperature } => {
                let mut prs = probabilities(&logits, temperature);
                if p <= 0.0 || p >= 1.0 {
                    self.multinomial(&prs)
                } else {
                    self.top_p(&mut prs, p as f32)
                }
            }
        }
    }

    fn multinomial(&mut self, prs: &[f32]) -> Result<u32> {
        let distribution =
            WeightedIndex::new(prs).map_err(|e| Error::Inference(format!("sampling: {e}")))?;
        Ok(distribution.sample(&mut self.rng) as u32)
    }

    /// Nucleus sampling: from the most likely tokens whose probabilities add up to `top_p`.
    fn top_p(&mut self, prs: &mut [f32], top_p: f32) -> Result<u32> {
        let mut order: Vec<usize> = (0..prs.len()).collect();
        order.sort_by(|&i, &j| prs[j].total_cmp(&prs[i]));
        let mut sum = 0.0;
        for &i in &order {
            if sum >= top_p {
                prs[i] = 0.0;
            } else {
                sum += prs[i];
            }
        }
        self.multinomial(prs)
    }
}

/// Makes each token of `context` less likely, once however often it occurs: a positive logit is
/// divided by `penalty`, a negative one multiplied.
fn apply_repeat_penalty(logits: &mut [f32], penalty: f32, context: &[u32]) {
    let mut seen = std::collections::HashSet::new();
    for &token in context {
        if !seen.insert(token) {
            continue;
        }
        if let Some(logit) = logits.get_mut(token as usize) {
            if *logit >= 0.0 {
                *logit /= penalty
            } else {
                *logit *= penalty
            }
        }
    }
}

/// Logits this far below the largest add less than e^-30 each to the softmax's sum: skipped, so
/// scoring a token costs a comparison per vocabulary entry, not an exponential.
const NEGLIGIBLE_LOGIT_GAP: f32 = 30.0;

/// `log softmax(logits)[token]`.
pub(crate) fn log_probability(logits: &[f32], token: u32) -> f32 {
    let Some(&logit) = logits.get(token as usize) else {
        return f32::NEG_INFINITY;
    };
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return f32::NEG_INFINITY;
    }
    let floor = max - NEGLIGIBLE_LOGIT_GAP;
    let sum: f32 = (logits.iter())
        .filter(|&&l| l > floor)
        .map(|&l| (l - max).exp())
        .sum();
    logit - max - sum.ln()
}

/// Softmax of `logits / temperature`.
fn probabilities(logits: &[f32], temperature: f64) -> Vec<f32> {
    let scale = (1.0 / temperature) as f32;
    let scaled: Vec<f32> = logits.iter().map(|&l| l * scale).collect();
    let max = scaled.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut prs: Vec<f32> = scaled.iter().map(|&l| (l - max).exp()).collect();
    let sum: f32 = prs.iter().sum();
    for p in &mut prs {
        *p /= sum;
    }
    prs
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};
    use candle_transformers::generation::{LogitsProcessor, Sampling as Reference};

    fn logits(seed: u32, n: usize) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9) | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 2000) as f32 / 100.0 - 10.0
            })
            .collect()
    }

    fn params(
        temperature: Option<f64>,
        top_p: Option<f64>,
        repeat_penalty: f32,
    ) -> GenerationParams {
        GenerationParams {
            temperature,
            top_p,
            repeat_penalty,
            seed: 42,
            ..GenerationParams::default()
        }
    }

    /// The port picks what candle-transformers' sampler picks, step after step.
    #[test]
    fn picks_what_candles_sampler_picks() {
        let cases = [
            (None, None, 1.1),
            (Some(0.7), None, 1.0),
            (Some(0.8), Some(0.9), 1.1),
            (Some(1.2), Some(1.0), 1.0),
        ];
        for (temperature, top_p, penalty) in cases {
            let p = params(temperature, top_p, penalty);
            let mut ours = Sampler::new(&p);
            let reference_sampling = match (temperature, top_p) {
                (None, _) => Reference::ArgMax,
                (Some(temperature), None) => Reference::All { temperature },
                (Some(temperature), Some(p)) => Reference::TopP { p, temperature },
            };
            let mut reference = LogitsProcessor::from_sampling(p.seed, reference_sampling);
            let mut generated: Vec<u32> = Vec::new();
            for step in 0..40 {
                let l = logits(step, 300);
                let mine = ours.next(&l, &generated).unwrap();
                let mut t = Tensor::from_slice(&l, l.len(), &Device::Cpu).unwrap();
                if penalty != 1.0 {
                    let start = generated.len().saturating_sub(p.repeat_last_n);
                    t = candle_transformers::utils::apply_repeat_penalty(
                        &t,
                        penalty,
                        &generated[start..],
                    )
                    .unwrap();
                }
                let theirs = reference.sample(&t).unwrap();
                assert_eq!(
                    mine, theirs,
                    "{temperature:?} {top_p:?} {penalty}: step {step}"
                );
                generated.push(mine);
            }
        }
    }

    #[test]
    fn log_probabilities_match_a_full_log_softmax() {
        let l = logits(7, 5000);
        let max = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let log_sum = l
            .iter()
            .map(|&x| ((x - max) as f64).exp())
            .sum::<f64>()
            .ln();
        for token in [0u32, 17, 4999, argmax(&l)] {
            let exact = (l[token as usize] - max) as f64 - log_sum;
            let ours = log_probability(&l, token) as f64;
            assert!((ours - exact).abs() < 1e-4, "{token}: {ours} vs {exact}");
        }
        assert_eq!(log_probability(&l, 5000), f32::NEG_INFINITY);
        // A certain pick scores ~0; the picks' mean is what a generation reports.
        let mut sure = vec![-50.0f32; 100];
        sure[3] = 10.0;
        let mut sampler = Sampler::new(&params(None, None, 1.0));
        assert_eq!(sampler.next(&sure, &[]).unwrap(), 3);
        assert_eq!(sampler.next(&l, &[]).unwrap(), argmax(&l));
        let mean = sampler.logprob().mean().unwrap();
        let expected = (log_probability(&sure, 3) + log_probability(&l, argmax(&l))) / 2.0;
        assert!((mean - expected).abs() < 1e-6, "{mean} vs {expected}");
        assert!(log_probability(&sure, 3).abs() < 1e-6);
    }

    #[test]
    fn the_repeat_penalty_counts_each_token_once() {
        let mut l = vec![2.0, -2.0, 1.0];
        apply_repeat_penalty(&mut l, 2.0, &[0, 1, 0, 0, 7]);
        assert_eq!(l, [1.0, -4.0, 1.0]);
    }
}
