import { useEffect, useRef } from "preact/hooks"

/** Puts a DOM node made outside Preact (a Plot chart, the DAG's SVG) into the tree. */
export function Mount({ node, class: cls }: { node: Element | null; class?: string }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (ref.current) ref.current.replaceChildren(...(node ? [node] : []))
  }, [node])
  return <div class={cls} ref={ref} />
}
