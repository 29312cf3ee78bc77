;; The sparse trainer's three hot row-ordered loops as WebAssembly SIMD (the source of kernels-wasm.ts:
;; `node scripts/wasm-kernels.mjs` regenerates it; test/io/train-kernels.test.ts checks they match).
;;
;; Each is the exact float64 arithmetic of its JavaScript twin in kernels.ts (poolRows, adamRows,
;; sgdRows), two lanes at a time: the same operations in the same order, float32 tables widened with
;; f64x2.promote_low_f32x4 and narrowed with f32x4.demote_f64x2_zero (round to nearest, as
;; Math.fround), so the two paths give bit-identical weights and the tfjs equivalence tests hold
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
)
