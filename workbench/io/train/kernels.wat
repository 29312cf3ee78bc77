;; The sparse trainer's hot loops as WebAssembly SIMD: the row passes and the per-pair dense layers (the
;; source of kernels-wasm.ts: `node scripts/wasm-kernels.mjs` regenerates it; test/io/train-kernels.test.ts
;; checks they match).
;;
;; Each is the exact float64 arithmetic of its JavaScript twin in kernels.ts (poolRows, adamRows,
;; sgdRows) or sparse.ts (the dense layers), two lanes at a time: the same operations in the same
;; order, float32 tables widened with f64x2.promote_low_f32x4 and narrowed with f32x4.demote_f64x2_zero
;; (round to nearest, as Math.fround), so the two paths give bit-identical weights and the tfjs equivalence tests hold
;; unchanged. No fused multiply-add (SIMD MVP has none), which is what keeps them identical.
;;
;; Pointers are byte offsets into the one imported memory (shared, so worker threads run the same
;; code over their own row ranges). Layouts, as sparse.ts keeps them: the table E (and Adam's m, v) is
;; float32 rows of D; rows: int32 row ids, ascending; start: int32, entries start[k] .. start[k+1]
;; read row rows[k]; eSlot: int32 element offset (in float64s) of the entry's pooled vector; eW: float64
;; entry weight; pooled vectors and their gradients (out, tg): float64; g: float64 scratch of D.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; out[eSlot[e] + j] += eW[e] * E[rows[k]·D + j] for the entries of rows k0 .. k1
  (func (export "pool")
    (param $E i32) (param $rows i32) (param $start i32) (param $eSlot i32) (param $eW i32)
    (param $out i32) (param $k0 i32) (param $k1 i32) (param $D i32)
    (local $k i32) (local $e i32) (local $eEnd i32) (local $row i32) (local $x i32) (local $y i32)
    (local $j i32) (local $a f64) (local $av v128)
    (local.set $k (local.get $k0))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_s (local.get $k) (local.get $k1)))
        (local.set $e (i32.load (i32.add (local.get $start) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $eEnd (i32.load offset=4 (i32.add (local.get $start) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $row
          (i32.add (local.get $E)
            (i32.shl
              (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))) (local.get $D))
              (i32.const 2))))
        (block $eDone
          (loop $eLoop
            (br_if $eDone (i32.ge_s (local.get $e) (local.get $eEnd)))
            (local.set $a (f64.load (i32.add (local.get $eW) (i32.shl (local.get $e) (i32.const 3)))))
            (local.set $av (f64x2.splat (local.get $a)))
            (local.set $y
              (i32.add (local.get $out)
                (i32.shl (i32.load (i32.add (local.get $eSlot) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 3))))
            (local.set $x (local.get $row))
            (local.set $j (i32.const 0))
            (block $quadsDone
              (loop $quads
                (br_if $quadsDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $D)))
                (v128.store (local.get $y)
                  (f64x2.add (v128.load (local.get $y))
                    (f64x2.mul (local.get $av) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))))
                (v128.store offset=16 (local.get $y)
                  (f64x2.add (v128.load offset=16 (local.get $y))
                    (f64x2.mul (local.get $av) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $x))))))
                (local.set $x (i32.add (local.get $x) (i32.const 16)))
                (local.set $y (i32.add (local.get $y) (i32.const 32)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $quads)))
            (block $tailDone
              (loop $tail
                (br_if $tailDone (i32.ge_s (local.get $j) (local.get $D)))
                (f64.store (local.get $y)
                  (f64.add (f64.load (local.get $y)) (f64.mul (local.get $a) (f64.promote_f32 (f32.load (local.get $x))))))
                (local.set $x (i32.add (local.get $x) (i32.const 4)))
                (local.set $y (i32.add (local.get $y) (i32.const 8)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $tail)))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $eLoop)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rowsLoop))))

  ;; g[0 .. D) = Σ over row k's entries of eW[e] · tg[eSlot[e] ..] (zeroed first, summed in entry order)
  (func $rowGradient
    (param $start i32) (param $eSlot i32) (param $eW i32) (param $tg i32) (param $g i32) (param $k i32) (param $D i32)
    (local $e i32) (local $eEnd i32) (local $x i32) (local $y i32) (local $j i32) (local $a f64) (local $av v128)
    (local.set $y (local.get $g))
    (local.set $j (i32.const 0))
    (block $zDone
      (loop $z
        (br_if $zDone (i32.ge_s (local.get $j) (local.get $D)))
        (f64.store (local.get $y) (f64.const 0))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $z)))
    (local.set $e (i32.load (i32.add (local.get $start) (i32.shl (local.get $k) (i32.const 2)))))
    (local.set $eEnd (i32.load offset=4 (i32.add (local.get $start) (i32.shl (local.get $k) (i32.const 2)))))
    (block $eDone
      (loop $eLoop
        (br_if $eDone (i32.ge_s (local.get $e) (local.get $eEnd)))
        (local.set $a (f64.load (i32.add (local.get $eW) (i32.shl (local.get $e) (i32.const 3)))))
        (local.set $av (f64x2.splat (local.get $a)))
        (local.set $x
          (i32.add (local.get $tg)
            (i32.shl (i32.load (i32.add (local.get $eSlot) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 3))))
        (local.set $y (local.get $g))
        (local.set $j (i32.const 0))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $D)))
            (v128.store (local.get $y)
              (f64x2.add (v128.load (local.get $y)) (f64x2.mul (local.get $av) (v128.load (local.get $x)))))
            (v128.store offset=16 (local.get $y)
              (f64x2.add (v128.load offset=16 (local.get $y)) (f64x2.mul (local.get $av) (v128.load offset=16 (local.get $x)))))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (local.set $y (i32.add (local.get $y) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $quads)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_s (local.get $j) (local.get $D)))
            (f64.store (local.get $y) (f64.add (f64.load (local.get $y)) (f64.mul (local.get $a) (f64.load (local.get $x)))))
            (local.set $x (i32.add (local.get $x) (i32.const 8)))
            (local.set $y (i32.add (local.get $y) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tail)))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $eLoop))))

  ;; Lazy Adam on rows k0 .. k1 with each row's summed gradient (rounded to float32 first, as the slot
  ;; path stores it): m = 0.9m + 0.1g, v = 0.999v + 0.001g·g, p −= a·m / (√v·s + 1e-7), in float64
  ;; with the unrounded m and v (a JavaScript assignment's value), each stored as float32.
  (func (export "adamRows")
    (param $E i32) (param $M i32) (param $V i32) (param $rows i32) (param $start i32) (param $eSlot i32)
    (param $eW i32) (param $tg i32) (param $g i32) (param $k0 i32) (param $k1 i32) (param $D i32)
    (param $a f64) (param $s f64)
    (local $k i32) (local $off i32) (local $p i32) (local $m i32) (local $v i32) (local $gp i32) (local $j i32)
    (local $gi v128) (local $mi v128) (local $vi v128) (local $av v128) (local $sv v128)
    (local $gs f64) (local $ms f64) (local $vs f64)
    (local.set $av (f64x2.splat (local.get $a)))
    (local.set $sv (f64x2.splat (local.get $s)))
    (local.set $k (local.get $k0))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_s (local.get $k) (local.get $k1)))
        (call $rowGradient (local.get $start) (local.get $eSlot) (local.get $eW) (local.get $tg) (local.get $g)
          (local.get $k) (local.get $D))
        (local.set $off
          (i32.shl
            (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))) (local.get $D))
            (i32.const 2)))
        (local.set $p (i32.add (local.get $E) (local.get $off)))
        (local.set $m (i32.add (local.get $M) (local.get $off)))
        (local.set $v (i32.add (local.get $V) (local.get $off)))
        (local.set $gp (local.get $g))
        (local.set $j (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_s (i32.add (local.get $j) (i32.const 2)) (local.get $D)))
            (local.set $gi (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (v128.load (local.get $gp)))))
            (local.set $mi
              (f64x2.add
                (f64x2.mul (v128.const f64x2 0.9 0.9) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $m))))
                (f64x2.mul (v128.const f64x2 0.1 0.1) (local.get $gi))))
            (v128.store64_lane 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $mi)))
            (local.set $vi
              (f64x2.add
                (f64x2.mul (v128.const f64x2 0.999 0.999) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $v))))
                (f64x2.mul (f64x2.mul (v128.const f64x2 0.001 0.001) (local.get $gi)) (local.get $gi))))
            (v128.store64_lane 0 (local.get $v) (f32x4.demote_f64x2_zero (local.get $vi)))
            (v128.store64_lane 0 (local.get $p)
              (f32x4.demote_f64x2_zero
                (f64x2.sub
                  (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))
                  (f64x2.div
                    (f64x2.mul (local.get $av) (local.get $mi))
                    (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $vi)) (local.get $sv)) (v128.const f64x2 1e-7 1e-7))))))
            (local.set $gp (i32.add (local.get $gp) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            (local.set $v (i32.add (local.get $v) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs)))
        ;; an odd D's last element
        (if (i32.lt_s (local.get $j) (local.get $D))
          (then
            (local.set $gs (f64.promote_f32 (f32.demote_f64 (f64.load (local.get $gp)))))
            (local.set $ms
              (f64.add (f64.mul (f64.const 0.9) (f64.promote_f32 (f32.load (local.get $m))))
                (f64.mul (f64.const 0.1) (local.get $gs))))
            (f32.store (local.get $m) (f32.demote_f64 (local.get $ms)))
            (local.set $vs
              (f64.add (f64.mul (f64.const 0.999) (f64.promote_f32 (f32.load (local.get $v))))
                (f64.mul (f64.mul (f64.const 0.001) (local.get $gs)) (local.get $gs))))
            (f32.store (local.get $v) (f32.demote_f64 (local.get $vs)))
            (f32.store (local.get $p)
              (f32.demote_f64
                (f64.sub (f64.promote_f32 (f32.load (local.get $p)))
                  (f64.div (f64.mul (local.get $a) (local.get $ms))
                    (f64.add (f64.mul (f64.sqrt (local.get $vs)) (local.get $s)) (f64.const 1e-7))))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rowsLoop))))

  ;; Plain SGD on rows k0 .. k1: E[row ..] −= lr · the row's summed gradient.
  (func (export "sgdRows")
    (param $E i32) (param $rows i32) (param $start i32) (param $eSlot i32) (param $eW i32) (param $tg i32)
    (param $g i32) (param $k0 i32) (param $k1 i32) (param $D i32) (param $lr f64)
    (local $k i32) (local $p i32) (local $gp i32) (local $j i32) (local $lv v128)
    (local.set $lv (f64x2.splat (local.get $lr)))
    (local.set $k (local.get $k0))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_s (local.get $k) (local.get $k1)))
        (call $rowGradient (local.get $start) (local.get $eSlot) (local.get $eW) (local.get $tg) (local.get $g)
          (local.get $k) (local.get $D))
        (local.set $p
          (i32.add (local.get $E)
            (i32.shl
              (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))) (local.get $D))
              (i32.const 2))))
        (local.set $gp (local.get $g))
        (local.set $j (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_s (i32.add (local.get $j) (i32.const 2)) (local.get $D)))
            (v128.store64_lane 0 (local.get $p)
              (f32x4.demote_f64x2_zero
                (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))
                  (f64x2.mul (local.get $lv) (v128.load (local.get $gp))))))
            (local.set $gp (i32.add (local.get $gp) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_s (local.get $j) (local.get $D))
          (then
            (f32.store (local.get $p)
              (f32.demote_f64
                (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (f64.mul (local.get $lr) (f64.load (local.get $gp))))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rowsLoop))))

  ;; ---- The reward model's dense layers per pair (sparse.ts's promptPre, respScore, respBackward,
  ;; promptBackward, i.e. addScaled and rowGrad in kernels.ts), over W1 [2D, H], b1, w2 [H], b2 (float32)
  ;; and float64 vectors. Same rounding and order per element as the JavaScript: a sum over rows runs
  ;; k = 0, 1, … for each output, a dot product keeps rowGrad's four accumulators (lanes of two v128s),
  ;; ReLU is `pre > 0 ? pre : 0` (a compare mask: +0 for NaN and −0 as the JavaScript).

  ;; out[j] = init[j] + Σ_k x[k]·W[k·H + j] for j < H (init: float32 when $f32 ≠ 0, else float64).
  ;; Eight outputs stay in registers over all k (each still sums k ascending, as addScaled row by row);
  ;; an H that is not a multiple of 8 ends with single outputs.
  (func $proj
    (param $W i32) (param $x i32) (param $init i32) (param $f32 i32) (param $out i32) (param $D i32) (param $H i32)
    (local $j i32) (local $k i32) (local $w i32) (local $xp i32) (local $rowBytes i32) (local $o i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xv v128) (local $s f64)
    (local.set $rowBytes (i32.shl (local.get $H) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $octsDone
      (loop $octs
        (br_if $octsDone (i32.gt_s (i32.add (local.get $j) (i32.const 8)) (local.get $H)))
        (if (local.get $f32)
          (then
            (local.set $o (i32.add (local.get $init) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $a0 (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $o))))
            (local.set $a1 (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $o))))
            (local.set $a2 (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $o))))
            (local.set $a3 (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $o)))))
          (else
            (local.set $o (i32.add (local.get $init) (i32.shl (local.get $j) (i32.const 3))))
            (local.set $a0 (v128.load (local.get $o)))
            (local.set $a1 (v128.load offset=16 (local.get $o)))
            (local.set $a2 (v128.load offset=32 (local.get $o)))
            (local.set $a3 (v128.load offset=48 (local.get $o)))))
        (local.set $w (i32.add (local.get $W) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $xp (local.get $x))
        (local.set $k (i32.const 0))
        (block $kDone
          (loop $ks
            (br_if $kDone (i32.ge_s (local.get $k) (local.get $D)))
            (local.set $xv (v128.load64_splat (local.get $xp)))
            (local.set $a0
              (f64x2.add (local.get $a0) (f64x2.mul (local.get $xv) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $w))))))
            (local.set $a1
              (f64x2.add (local.get $a1)
                (f64x2.mul (local.get $xv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $w))))))
            (local.set $a2
              (f64x2.add (local.get $a2)
                (f64x2.mul (local.get $xv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $w))))))
            (local.set $a3
              (f64x2.add (local.get $a3)
                (f64x2.mul (local.get $xv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $w))))))
            (local.set $w (i32.add (local.get $w) (local.get $rowBytes)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 8)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ks)))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))))
        (v128.store (local.get $o) (local.get $a0))
        (v128.store offset=16 (local.get $o) (local.get $a1))
        (v128.store offset=32 (local.get $o) (local.get $a2))
        (v128.store offset=48 (local.get $o) (local.get $a3))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $octs)))
    (block $onesDone
      (loop $ones
        (br_if $onesDone (i32.ge_s (local.get $j) (local.get $H)))
        (local.set $s
          (if (result f64) (local.get $f32)
            (then (f64.promote_f32 (f32.load (i32.add (local.get $init) (i32.shl (local.get $j) (i32.const 2))))))
            (else (f64.load (i32.add (local.get $init) (i32.shl (local.get $j) (i32.const 3)))))))
        (local.set $w (i32.add (local.get $W) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $xp (local.get $x))
        (local.set $k (i32.const 0))
        (block $kDone
          (loop $ks
            (br_if $kDone (i32.ge_s (local.get $k) (local.get $D)))
            (local.set $s
              (f64.add (local.get $s) (f64.mul (f64.load (local.get $xp)) (f64.promote_f32 (f32.load (local.get $w))))))
            (local.set $w (i32.add (local.get $w) (local.get $rowBytes)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 8)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ks)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $ones))))

  ;; promptPre: out = b1 + W1[0:D]ᵀ x
  (func (export "promptPre")
    (param $w1 i32) (param $b1 i32) (param $x i32) (param $out i32) (param $D i32) (param $H i32)
    (call $proj (local.get $w1) (local.get $x) (local.get $b1) (i32.const 1) (local.get $out) (local.get $D) (local.get $H)))

  ;; respScore: pre = pp + W1[D:2D]ᵀ x; h = relu(pre); returns b2 + Σ_j h[j]·w2[j] (summed j ascending)
  (func (export "respScore")
    (param $w1 i32) (param $w2 i32) (param $b2 i32) (param $x i32) (param $pp i32) (param $pre i32) (param $h i32)
    (param $D i32) (param $H i32) (result f64)
    (local $s f64) (local $j i32) (local $p v128) (local $a f64)
    (call $proj
      (i32.add (local.get $w1) (i32.shl (i32.mul (local.get $D) (local.get $H)) (i32.const 2)))
      (local.get $x) (local.get $pp) (i32.const 0) (local.get $pre) (local.get $D) (local.get $H))
    (local.set $s (f64.promote_f32 (f32.load (local.get $b2))))
    (local.set $j (i32.const 0))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.gt_s (i32.add (local.get $j) (i32.const 2)) (local.get $H)))
        (local.set $p (v128.load (i32.add (local.get $pre) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $p (v128.and (local.get $p) (f64x2.gt (local.get $p) (v128.const f64x2 0 0))))
        (v128.store (i32.add (local.get $h) (i32.shl (local.get $j) (i32.const 3))) (local.get $p))
        (local.set $p
          (f64x2.mul (local.get $p)
            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w2) (i32.shl (local.get $j) (i32.const 2)))))))
        (local.set $s (f64.add (local.get $s) (f64x2.extract_lane 0 (local.get $p))))
        (local.set $s (f64.add (local.get $s) (f64x2.extract_lane 1 (local.get $p))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_s (local.get $j) (local.get $H))
      (then
        (local.set $a (f64.load (i32.add (local.get $pre) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $a (select (local.get $a) (f64.const 0) (f64.gt (local.get $a) (f64.const 0))))
        (f64.store (i32.add (local.get $h) (i32.shl (local.get $j) (i32.const 3))) (local.get $a))
        (local.set $s
          (f64.add (local.get $s)
            (f64.mul (local.get $a) (f64.promote_f32 (f32.load (i32.add (local.get $w2) (i32.shl (local.get $j) (i32.const 2))))))))))
    (local.get $s))

  ;; rowGrads (promptBackward for W1[0:D]): for each row k < D of W (H wide), gW[k·H ..] += x[k]·d and
  ;; out[k] += W[k·H ..]·d, the dot product in rowGrad's four accumulators a0..a3 (j mod 4; the tail
  ;; into a0) returned as (a0 + a1) + (a2 + a3).
  (func $rowGrads (export "rowGrads")
    (param $gW i32) (param $W i32) (param $x i32) (param $d i32) (param $out i32) (param $D i32) (param $H i32)
    (local $k i32) (local $j i32) (local $g i32) (local $w i32) (local $dp i32) (local $xs f64) (local $xv v128)
    (local $a01 v128) (local $a23 v128) (local $d01 v128) (local $d23 v128) (local $a0 f64) (local $dj f64) (local $o i32)
    ;; W's rows are contiguous: g and w run on across rows
    (local.set $g (local.get $gW))
    (local.set $w (local.get $W))
    (local.set $k (i32.const 0))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_s (local.get $k) (local.get $D)))
        (local.set $xs (f64.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3)))))
        (local.set $xv (f64x2.splat (local.get $xs)))
        (local.set $a01 (v128.const i64x2 0 0))
        (local.set $a23 (v128.const i64x2 0 0))
        (local.set $dp (local.get $d))
        (local.set $j (i32.const 0))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $H)))
            (local.set $d01 (v128.load (local.get $dp)))
            (local.set $d23 (v128.load offset=16 (local.get $dp)))
            (v128.store64_lane 0 (local.get $g)
              (f32x4.demote_f64x2_zero
                (f64x2.add (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))) (f64x2.mul (local.get $xv) (local.get $d01)))))
            (v128.store64_lane offset=8 0 (local.get $g)
              (f32x4.demote_f64x2_zero
                (f64x2.add (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $g)))
                  (f64x2.mul (local.get $xv) (local.get $d23)))))
            (local.set $a01
              (f64x2.add (local.get $a01) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $w))) (local.get $d01))))
            (local.set $a23
              (f64x2.add (local.get $a23)
                (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $w))) (local.get $d23))))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $w (i32.add (local.get $w) (i32.const 16)))
            (local.set $dp (i32.add (local.get $dp) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $quads)))
        (local.set $a0 (f64x2.extract_lane 0 (local.get $a01)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_s (local.get $j) (local.get $H)))
            (local.set $dj (f64.load (local.get $dp)))
            (f32.store (local.get $g)
              (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $g))) (f64.mul (local.get $xs) (local.get $dj)))))
            (local.set $a0 (f64.add (local.get $a0) (f64.mul (f64.promote_f32 (f32.load (local.get $w))) (local.get $dj))))
            (local.set $g (i32.add (local.get $g) (i32.const 4)))
            (local.set $w (i32.add (local.get $w) (i32.const 4)))
            (local.set $dp (i32.add (local.get $dp) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tail)))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 3))))
        (f64.store (local.get $o)
          (f64.add (f64.load (local.get $o))
            (f64.add
              (f64.add (local.get $a0) (f64x2.extract_lane 1 (local.get $a01)))
              (f64.add (f64x2.extract_lane 0 (local.get $a23)) (f64x2.extract_lane 1 (local.get $a23))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rowsLoop))))

  ;; respBackward: dL/ds = ds through one response. gb2 += ds; per j: gw2 += ds·h, d = pre > 0 ? ds·w2 : 0,
  ;; dh = d, gb1 += d, dhSum += d; then rowGrads over W1[D:2D] with dh (dL/dx added to out).
  (func (export "respBackward")
    (param $ds f64) (param $w1 i32) (param $w2 i32) (param $gw1 i32) (param $gb1 i32) (param $gw2 i32) (param $gb2 i32)
    (param $x i32) (param $pre i32) (param $h i32) (param $dh i32) (param $dhSum i32) (param $out i32)
    (param $D i32) (param $H i32)
    (local $j i32) (local $dsv v128) (local $d v128) (local $ds1 f64) (local $o4 i32) (local $o8 i32) (local $half i32)
    (f32.store (local.get $gb2) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $gb2))) (local.get $ds))))
    (local.set $dsv (f64x2.splat (local.get $ds)))
    (local.set $j (i32.const 0))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.gt_s (i32.add (local.get $j) (i32.const 2)) (local.get $H)))
        (local.set $o4 (i32.shl (local.get $j) (i32.const 2)))
        (local.set $o8 (i32.shl (local.get $j) (i32.const 3)))
        (v128.store64_lane 0 (i32.add (local.get $gw2) (local.get $o4))
          (f32x4.demote_f64x2_zero
            (f64x2.add (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gw2) (local.get $o4))))
              (f64x2.mul (local.get $dsv) (v128.load (i32.add (local.get $h) (local.get $o8)))))))
        (local.set $d
          (v128.and
            (f64x2.mul (local.get $dsv) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w2) (local.get $o4)))))
            (f64x2.gt (v128.load (i32.add (local.get $pre) (local.get $o8))) (v128.const f64x2 0 0))))
        (v128.store (i32.add (local.get $dh) (local.get $o8)) (local.get $d))
        (v128.store64_lane 0 (i32.add (local.get $gb1) (local.get $o4))
          (f32x4.demote_f64x2_zero
            (f64x2.add (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gb1) (local.get $o4)))) (local.get $d))))
        (v128.store (i32.add (local.get $dhSum) (local.get $o8))
          (f64x2.add (v128.load (i32.add (local.get $dhSum) (local.get $o8))) (local.get $d)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_s (local.get $j) (local.get $H))
      (then
        (local.set $o4 (i32.shl (local.get $j) (i32.const 2)))
        (local.set $o8 (i32.shl (local.get $j) (i32.const 3)))
        (f32.store (i32.add (local.get $gw2) (local.get $o4))
          (f32.demote_f64
            (f64.add (f64.promote_f32 (f32.load (i32.add (local.get $gw2) (local.get $o4))))
              (f64.mul (local.get $ds) (f64.load (i32.add (local.get $h) (local.get $o8)))))))
        (local.set $ds1
          (select
            (f64.mul (local.get $ds) (f64.promote_f32 (f32.load (i32.add (local.get $w2) (local.get $o4)))))
            (f64.const 0)
            (f64.gt (f64.load (i32.add (local.get $pre) (local.get $o8))) (f64.const 0))))
        (f64.store (i32.add (local.get $dh) (local.get $o8)) (local.get $ds1))
        (f32.store (i32.add (local.get $gb1) (local.get $o4))
          (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (i32.add (local.get $gb1) (local.get $o4)))) (local.get $ds1))))
        (f64.store (i32.add (local.get $dhSum) (local.get $o8))
          (f64.add (f64.load (i32.add (local.get $dhSum) (local.get $o8))) (local.get $ds1)))))
    (local.set $half (i32.shl (i32.mul (local.get $D) (local.get $H)) (i32.const 2)))
    (call $rowGrads
      (i32.add (local.get $gw1) (local.get $half)) (i32.add (local.get $w1) (local.get $half))
      (local.get $x) (local.get $dh) (local.get $out) (local.get $D) (local.get $H)))
)
