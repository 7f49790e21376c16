// Learning-rate schedules, stepped once per epoch like torch.optim.lr_scheduler. The
// rate of an epoch depends on the epoch number alone (e = 1, 2, …; PyTorch's
// last_epoch = e − 1 after e − 1 calls of scheduler.step()), so a resumed run gets the
// same rate without storing any scheduler state. PyTorch computes its rates
// recursively (each from the previous group['lr']); so do we, in doubles, so the
// values agree to the last bits instead of drifting by a few ulps per epoch:
//   StepLR             lr_k = lr_{k−1}·γ  when k % stepSize = 0, else lr_{k−1}
//   ExponentialLR      lr_k = lr_{k−1}·γ
//   CosineAnnealingLR  lr_k = (1 + cos(πk/T)) / (1 + cos(π(k−1)/T)) · (lr_{k−1} − η) + η
//                      and lr_k = lr_{k−1} + (lr₀ − η)(1 − cos(π/T))/2 when (k − 1 − T) % 2T = 0
//                      (closed form: η + (lr₀ − η)(1 + cos(πk/T))/2; past T it rises again)
import type { ScheduleSpec } from '../types.js';

/** The learning rate that epoch `epoch` (1-based) trains with. */
export function learningRateAt(schedule: ScheduleSpec | undefined, base: number, epoch: number): number {
  let lr = base;
  if (!schedule) return lr;
  for (let k = 1; k < epoch; k++) lr = nextRate(schedule, base, lr, k);
  return lr;
}

/** PyTorch's get_lr() at last_epoch = k, from the previous rate. */
function nextRate(s: ScheduleSpec, base: number, lr: number, k: number): number {
  switch (s.type) {
    case 'step': return k % s.stepSize === 0 ? lr * s.gamma : lr;
    case 'exponential': return lr * s.gamma;
    case 'cosine': {
      const T = s.tMax, eta = s.etaMin;
      if ((k - 1 - T) % (2 * T) === 0) return lr + ((base - eta) * (1 - Math.cos(Math.PI / T))) / 2;
      return ((1 + Math.cos((Math.PI * k) / T)) / (1 + Math.cos((Math.PI * (k - 1)) / T))) * (lr - eta) + eta;
    }
  }
}
