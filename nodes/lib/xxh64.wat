;; XXH64 (xxHash, 64-bit, seed 0) over bytes in this module's memory: the input fingerprint's hash for
;; big files (file-fingerprint.ts). The source of xxh64-wasm.ts: `node scripts/wasm-kernels.mjs`
;; regenerates it; test/nodes/xxh64.test.ts checks the bytes and known answers from xxhsum.
;;
;; WebAssembly has native 64-bit multiplies, which JavaScript lacks (a JS XXH64 emulates each with four
;; Math.imul): several GB/s here, where node's sha1 does ~1.5. Streaming: `reset`, then `stripes` over
;; whole 32-byte stripes of each chunk (the caller carries a chunk's last < 32 bytes over to the next),
;; then `digest` with the final < 32 bytes and the total length. State lives in globals (one hash at a
;; time per instance).
(module
  (memory (export "memory") 80)
  (global $v1 (mut i64) (i64.const 0))
  (global $v2 (mut i64) (i64.const 0))
  (global $v3 (mut i64) (i64.const 0))
  (global $v4 (mut i64) (i64.const 0))
  (global $P1 i64 (i64.const 0x9E3779B185EBCA87))
  (global $P2 i64 (i64.const 0xC2B2AE3D27D4EB4F))
  (global $P3 i64 (i64.const 0x165667B19E3779F9))
  (global $P4 i64 (i64.const 0x85EBCA77C2B2AE63))
  (global $P5 i64 (i64.const 0x27D4EB2F165667C5))

  ;; acc + input·P2, rotated left 31, times P1
  (func $round (param $acc i64) (param $input i64) (result i64)
    (i64.mul
      (i64.rotl (i64.add (local.get $acc) (i64.mul (local.get $input) (global.get $P2))) (i64.const 31))
      (global.get $P1)))

  (func $merge (param $h i64) (param $v i64) (result i64)
    (i64.add
      (i64.mul (i64.xor (local.get $h) (call $round (i64.const 0) (local.get $v))) (global.get $P1))
      (global.get $P4)))

  (func (export "reset")
    (global.set $v1 (i64.add (global.get $P1) (global.get $P2)))
    (global.set $v2 (global.get $P2))
    (global.set $v3 (i64.const 0))
    (global.set $v4 (i64.sub (i64.const 0) (global.get $P1))))

  ;; n whole stripes of 32 bytes from ptr
  (func (export "stripes") (param $ptr i32) (param $n i32)
    (local $end i32) (local $a i64) (local $b i64) (local $c i64) (local $d i64)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 5))))
    (local.set $a (global.get $v1))
    (local.set $b (global.get $v2))
    (local.set $c (global.get $v3))
    (local.set $d (global.get $v4))
    (block $done
      (loop $stripe
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $a (call $round (local.get $a) (i64.load (local.get $ptr))))
        (local.set $b (call $round (local.get $b) (i64.load offset=8 (local.get $ptr))))
        (local.set $c (call $round (local.get $c) (i64.load offset=16 (local.get $ptr))))
        (local.set $d (call $round (local.get $d) (i64.load offset=24 (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 32)))
        (br $stripe)))
    (global.set $v1 (local.get $a))
    (global.set $v2 (local.get $b))
    (global.set $v3 (local.get $c))
    (global.set $v4 (local.get $d)))

  ;; the hash of everything, given the last len (< 32) bytes at ptr and the total length
  (func (export "digest") (param $ptr i32) (param $len i32) (param $total i64) (result i64)
    (local $h i64) (local $end i32)
    (if (i64.ge_u (local.get $total) (i64.const 32))
      (then
        (local.set $h
          (i64.add
            (i64.add (i64.rotl (global.get $v1) (i64.const 1)) (i64.rotl (global.get $v2) (i64.const 7)))
            (i64.add (i64.rotl (global.get $v3) (i64.const 12)) (i64.rotl (global.get $v4) (i64.const 18)))))
        (local.set $h (call $merge (local.get $h) (global.get $v1)))
        (local.set $h (call $merge (local.get $h) (global.get $v2)))
        (local.set $h (call $merge (local.get $h) (global.get $v3)))
        (local.set $h (call $merge (local.get $h) (global.get $v4))))
      (else (local.set $h (global.get $P5))))
    (local.set $h (i64.add (local.get $h) (local.get $total)))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    ;; 8 bytes at a time
    (block $done8
      (loop $eight
        (br_if $done8 (i32.gt_u (i32.add (local.get $ptr) (i32.const 8)) (local.get $end)))
        (local.set $h
          (i64.add
            (i64.mul
              (i64.rotl
                (i64.xor (local.get $h) (call $round (i64.const 0) (i64.load (local.get $ptr))))
                (i64.const 27))
              (global.get $P1))
            (global.get $P4)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $eight)))
    ;; then 4
    (if (i32.le_u (i32.add (local.get $ptr) (i32.const 4)) (local.get $end))
      (then
        (local.set $h
          (i64.add
            (i64.mul
              (i64.rotl
                (i64.xor (local.get $h) (i64.mul (i64.load32_u (local.get $ptr)) (global.get $P1)))
                (i64.const 23))
              (global.get $P2))
            (global.get $P3)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))))
    ;; then 1 at a time
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $h
          (i64.mul
            (i64.rotl
              (i64.xor (local.get $h) (i64.mul (i64.load8_u (local.get $ptr)) (global.get $P5)))
              (i64.const 11))
            (global.get $P1)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $one)))
    ;; avalanche
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))) (global.get $P2)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))) (global.get $P3)))
    (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))
)
