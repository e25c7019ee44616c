// WCAG contrast of every piece of text in the answers and the source viewer, and of the question box's
// placeholder, from the colours the browser rendered: the text colour (with the opacity of its
// ancestors) over the first opaque background behind it. Returns [{what, ratio, fg, bg}].
() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return [0,0,0,0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const blend = (top, under) => { const a = top[3]; return [0,1,2].map(i => top[i]*a + under[i]*(1-a)).concat([1]); };
  const background = (e) => { const layers = []; for (let n = e; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor); if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let bg = [255,255,255,1]; if (layers.length && layers[layers.length-1][3] >= 1) bg = layers.pop();
    else if (document.querySelector('.dark')) bg = [11,15,25,1];
    while (layers.length) bg = blend(layers.pop(), bg); return bg; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*f(c[0]) + 0.7152*f(c[1]) + 0.0722*f(c[2]); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x,y)+0.05)/(Math.min(x,y)+0.05); };
  const out = [];
  const check = (e, color, label) => { const bg = background(e); let opacity = 1;
    for (let n = e; n; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
    const fg = blend([...color.slice(0,3), color[3]*opacity], bg);
    out.push({what: label, ratio: Math.round(ratio(fg, bg)*100)/100, fg: fg.slice(0,3).map(Math.round).join(','), bg: bg.slice(0,3).map(Math.round).join(',')}); };
  for (const e of document.querySelectorAll('.rag-answer *, .rag-answer, .rag-document *')) {
    if (!e.offsetParent && e.tagName !== 'BODY') continue;
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) check(e, parse(getComputedStyle(e).color), (e.className ? e.tagName + '.' + e.className : e.tagName) + ': ' + e.textContent.trim().slice(0, 30));
  }
  const box = document.querySelector('#rag-question textarea');
  if (box) check(box, parse(getComputedStyle(box, '::placeholder').color), 'placeholder');
  return out;
}
