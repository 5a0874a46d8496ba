import fc from 'fast-check';
import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError } from '../src/index.js';

/**
 * Expected strings are what Go's text/template prints when run the way
 * ContainerPilot runs it (data = the environment as map[string]string,
 * missingkey=zero, ContainerPilot's function map).
 */

const ENV = {
  NAME: 'Template',
  USER: 'pilot',
  PARTS: 'a:b:c',
  COUNT: '3',
  NAME_1: 'Template',
};

type Case = readonly [template: string, expected: string];

function render(template: string, env: Record<string, string | undefined> = ENV): string {
  return renderTemplate(template, env);
}

function renderError(template: string, env: Record<string, string> = ENV): TemplateError {
  try {
    renderTemplate(template, env, 'conf.json5');
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error(`expected ${JSON.stringify(template)} to fail`);
}

describe('ContainerPilot documented behaviour', () => {
  // The cases of ContainerPilot's own template_test.go and docs/30-configuration.
  it.each<Case>([
    ['Hello, {{.NAME}}!', 'Hello, Template!'],
    ['Hello, {{.NONAME}}!', 'Hello, !'],
    ['{{ loop 2 5 }}', '[2 3 4]'],
    ['{{ loop 10 1 }}', '[10 9 8 7 6 5 4 3 2]'],
    ['{{ loop 5 }}', '[0 1 2 3 4]'],
    ['{{ loop .COUNT }}', '[0 1 2]'],
    ['{{ loop 1 .COUNT }}', '[1 2]'],
    ['{{ range $i := loop 2 5 -}}i={{$i}},{{ end }}', 'i=2,i=3,i=4,'],
    ['{{ range $i := loop 5 }}{{ $i }},{{end}}', '0,1,2,3,4,'],
    ['{{ range $i := loop 5 8 }}{{ $i }},{{end}}', '5,6,7,'],
    ['{{ range $i := loop 5 1 }}{{ $i }},{{end}}', '5,4,3,2,'],
    ['Hello, {{ env (printf "NA%s" "ME_1") }}!', 'Hello, Template!'],
    ['Hello, {{.NONAME | default "World" }}!', 'Hello, World!'],
    ['Hello, {{.NONAME | default 100 }}!', 'Hello, 100!'],
    ['Hello, {{.NONAME | default 10.1 }}!', 'Hello, 10.1!'],
    ['Hello, {{.PARTS | split ":" | join "." }}!', 'Hello, a.b.c!'],
    ['Hello, {{.NAME | replaceAll "e" "_" }}!', 'Hello, T_mplat_!'],
    ['Hello, {{.NAME | regexReplaceAll "[epa]+" "_" }}!', 'Hello, T_m_l_t_!'],
    ['{{ .CONSUL | default "localhost" }}', 'localhost'],
  ])('%s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });

  it('generates watches dynamically with range, if, env and printf (docs example)', () => {
    const template = [
      '  watches: [',
      '    {{ range $i := loop 0 5 -}}{{ if (env (printf "SERVICE_NAME_%d" $i)) -}}',
      '    {',
      '      name: "{{ (env (printf "SERVICE_NAME_%d" $i)) }}",',
      '      interval: {{ (env (printf "SERVICE_INTERVAL_%d" $i)) | default 10 }}',
      '    },',
      '    {{- end }}{{- end }}',
      '  ],',
      '',
    ].join('\n');
    const env = { SERVICE_NAME_0: 'app', SERVICE_INTERVAL_0: '5', SERVICE_NAME_2: 'db' };
    expect(render(template, env)).toBe(
      '  watches: [\n    ' +
        '{\n      name: "app",\n      interval: 5\n    },' +
        '{\n      name: "db",\n      interval: 10\n    },' +
        '\n  ],\n',
    );
  });

  it('generates a JSON5 job list from an environment variable', () => {
    const template = [
      '{',
      '  jobs: [',
      '{{- range $i, $name := .SERVICES | split "," }}',
      '    {',
      '      name: "{{ $name }}",',
      '      exec: "/bin/{{ $name }} --port {{ printf "%d" (index (loop 8080 8090) $i) }}",',
      '      restarts: {{ if eq $name "worker" }}"never"{{ else }}"unlimited"{{ end }}',
      '    }{{ if lt $i 2 }},{{ end }}',
      '{{- end }}',
      '  ]',
      '}',
    ].join('\n');
    const job = (name: string, port: number, restarts: string): string =>
      `\n    {\n      name: "${name}",\n      exec: "/bin/${name} --port ${port}",\n      restarts: "${restarts}"\n    }`;
    const out = render(template, { SERVICES: 'web,worker,cache' });
    expect(out).toBe(
      `{\n  jobs: [${job('web', 8080, 'unlimited')},${job('worker', 8081, 'never')},${job('cache', 8082, 'unlimited')}\n  ]\n}`,
    );
    expect(JSON5.parse(out)).toEqual({
      jobs: [
        { name: 'web', exec: '/bin/web --port 8080', restarts: 'unlimited' },
        { name: 'worker', exec: '/bin/worker --port 8081', restarts: 'never' },
        { name: 'cache', exec: '/bin/cache --port 8082', restarts: 'unlimited' },
      ],
    });
  });

  it('leaves text without actions untouched', () => {
    const text = '{\n  consul: "localhost:8500",\n  jobs: [] // { not an action }\n}\n';
    expect(render(text)).toBe(text);
  });
});

describe('data and values', () => {
  it.each<Case>([
    ['{{ . }}', 'map[A:1 B:2]'],
    ['{{ $ }}', 'map[A:1 B:2]'],
    ['{{ .A }}{{ .B }}{{ .C }}', '12'],
    ['{{ .constructor }}{{ .__proto__ }}{{ .toString }}', ''],
    ['{{ len . }}', '2'],
    ['{{ printf "%T" . }}', 'template.Environment'],
  ])('%s', (template, expected) => {
    expect(render(template, { B: '2', A: '1', C: undefined })).toBe(expected);
  });
});

describe('literals', () => {
  it.each<Case>([
    ['{{ "a" }}{{ \'a\' }}{{ 1 }}{{ 1.5 }}{{ true }}{{ false }}', 'a9711.5truefalse'],
    // floats print like Go's %v: shortest digits, exponent from 1e+06 / 1e-05
    ['{{ 1e6 }} {{ 1.0 }} {{ 100000.0 }} {{ 1234567.0 }}', '1e+06 1 100000 1.234567e+06'],
    ['{{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ .5 }} {{ 1.5e300 }}', '0.0001 1e-05 -0 0.5 1.5e+300'],
    ['{{ 1e3 }} {{ 0x1p-2 }} {{ 123456789.0 }}', '1000 0.25 1.23456789e+08'],
    // integers: Go base prefixes, legacy octal, underscores, 64-bit range
    ['{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }}', '31 15 15 5 1000'],
    [
      '{{ -5 }} {{ +5 }} {{ -0x1e }} {{ 9223372036854775807 }} {{ -9223372036854775808 }}',
      '-5 5 -30 9223372036854775807 -9223372036854775808',
    ],
    // strings: Go escapes, raw strings keep backslashes and drop carriage returns
    ['{{ "a\\tb\\u00e9\\x41\\101\\xc3\\xa9\\U0001F600\\\\\\"" }}', 'a\tbéAAé😀\\"'],
    ['{{ `a\\nb` }}', 'a\\nb'],
    ['{{ `a\r\nb` }}', 'a\nb'],
    ["{{ '\\n' }} {{ '\\x41' }} {{ 'é' }} {{ '\\'' }}", '10 65 233 39'],
    ['{{ "{{" }}{{ "}}" }}', '{{}}'],
  ])('%s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe('whitespace trimming and comments', () => {
  it.each<Case>([
    ['a  {{- 1 -}}  b', 'a1b'],
    ['a\n\t {{- 1 }}\n', 'a1\n'],
    ['{{1 -}}\n\n  x', '1x'],
    ['[\n  {{- range loop 3 }}\n  {{ . }},\n  {{- end }}\n]', '[\n  0,\n  1,\n  2,\n]'],
    // The marker needs a space: "{{-1}}" is the number -1, "1-}}" would be a lexing error.
    ['a {{-1}}', 'a -1'],
    ['x {{- /* comment */ -}} y', 'xy'],
    ['x {{/* c */}} y', 'x  y'],
    ['x{{/* multi\nline */}}y', 'xy'],
    ['a {{- /* c */}} b', 'a b'],
    ['a {{/* c */ -}} b', 'a b'],
    ['a\r\n{{- "x" -}}\r\nb', 'axb'],
    ['{{ 1 }} {{ 2 }}', '1 2'],
  ])('%j', (template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe('if / else / with', () => {
  it.each<Case>([
    ['{{ if .NAME }}yes{{ else }}no{{ end }}', 'yes'],
    ['{{ if .NOPE }}yes{{ else }}no{{ end }}', 'no'],
    ['{{ if eq .N "1" }}one{{ else if eq .N "" }}empty{{ else }}other{{ end }}', 'empty'],
    ['{{ if 0 }}a{{ else if 0 }}b{{ else if 1 }}c{{ end }}', 'c'],
    ['{{ if 0 }}a{{ else if 0 }}b{{ end }}', ''],
    // Go truthiness: zero numbers, "", empty slices and maps are false
    ['{{ if 0 }}t{{ else }}f{{ end }}{{ if 0.0 }}t{{ else }}f{{ end }}{{ if "" }}t{{ else }}f{{ end }}', 'fff'],
    ['{{ if loop 0 }}t{{ else }}f{{ end }}{{ if loop 1 }}t{{ else }}f{{ end }}{{ if . }}t{{ else }}f{{ end }}', 'ftt'],
    ['{{ if false }}t{{ else }}f{{ end }}{{ if "0" }}t{{ else }}f{{ end }}{{ if -1 }}t{{ end }}', 'ftt'],
    ['{{ if and .NAME .USER }}both{{ end }}{{ if or .NOPE .USER }}either{{ end }}', 'botheither'],
    ['{{ if not .NOPE }}unset{{ end }}', 'unset'],
    ['{{ with .NAME }}[{{ . }}]{{ end }}', '[Template]'],
    ['{{ with .NOPE }}x{{ else }}y{{ end }}', 'y'],
    ['{{ with $v := .NAME }}{{ $v }}{{ . }}{{ end }}', 'TemplateTemplate'],
    ['{{ with .NOPE }}a{{ else with .NAME }}{{ . }}{{ else }}z{{ end }}', 'Template'],
    ['{{ with .NAME }}{{ $.USER }}{{ end }}', 'pilot'],
  ])('%s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe('range', () => {
  it.each<Case>([
    ['{{ range $i, $v := split "," "a,b" }}{{ $i }}={{ $v }};{{ end }}', '0=a;1=b;'],
    ['{{ range split "," "a,b" }}[{{ . }}]{{ end }}', '[a][b]'],
    ['{{ range $x := loop 0 }}x{{ else }}empty{{ end }}', 'empty'],
    ['{{ range .PARTS | split ":" }}{{ . }}{{ else }}empty{{ end }}', 'abc'],
    [
      '{{ range $k, $v := . }}{{ $k }}={{ $v }},{{ end }}',
      'COUNT=3,NAME=Template,NAME_1=Template,PARTS=a:b:c,USER=pilot,',
    ],
    ['{{ range . }}{{ . }};{{ end }}', '3;Template;Template;a:b:c;pilot;'],
    ['{{ range 3 }}{{ . }}{{ end }}', '012'],
    ['{{ range $i := 0 }}x{{ else }}none{{ end }}', 'none'],
    ['{{ range $i := loop 10 }}{{ if eq $i 3 }}{{ break }}{{ end }}{{ $i }}{{ end }}', '012'],
    ['{{ range $i := loop 5 }}{{ if eq $i 2 }}{{ continue }}{{ end }}{{ $i }}{{ end }}', '0134'],
    ['{{ range loop 2 }}{{ range loop 3 }}{{ if eq . 1 }}{{ break }}{{ end }}{{ . }}{{ end }};{{ end }}', '0;0;'],
    ['{{ range loop 2 }}{{ $.NAME }}{{ end }}', 'TemplateTemplate'],
    // a {{break}} in an inner range's else branch ends only that range statement
    ['{{ range loop 2 }}{{ range loop 0 }}{{ else }}{{ break }}{{ end }}x{{ end }}', 'xx'],
    [
      '{{ range $i := loop 3 }}{{ range loop 0 }}{{ else }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ end }}{{ $i }}{{ end }}',
      '02',
    ],
    ['{{ range $i := loop 3 }}{{ $x := $i }}{{ $x }}{{ end }}', '012'],
  ])('%s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe('variables', () => {
  it.each<Case>([
    ['{{ $x := "a" }}{{ $x }}', 'a'],
    ['{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}', '2'],
    ['{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}', '21'],
    ['{{ $sum := "" }}{{ range loop 3 }}{{ $sum = printf "%s%d" $sum . }}{{ end }}{{ $sum }}', '012'],
    ['{{ $x := .PARTS | split ":" }}{{ index $x 2 }}{{ len $x }}', 'c3'],
    ['{{ $.NAME }}{{ $x := . }}{{ $x.USER }}', 'Templatepilot'],
    ['{{ if $x := 0 }}{{ else if 1 }}{{ $x }}{{ end }}', '0'],
  ])('%s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe('pipelines and parentheses', () => {
  it.each<Case>([
    ['{{ (printf "%s" "x") }}', 'x'],
    ['{{ len (print "abc") }}', '3'],
    ['{{ "abc" | printf "%s-%s" "x" }}', 'x-abc'],
    ['{{ 3 | printf "%d" }}', '3'],
    ['{{ .NAME | len }}', '8'],
    ['{{ .NAME | printf "%s" | len | printf "%03d" }}', '008'],
    ['{{ (split "," "a,b").X | print }}', ''],
  ])('%s', (template, expected) => {
    if (template.includes('.X')) {
      expect(() => render(template)).toThrow(/can't evaluate field X in type \[\]string/);
      return;
    }
    expect(render(template)).toBe(expected);
  });
});

describe('Go built-in functions', () => {
  it.each<Case>([
    ['{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" "x" }} [{{ or 0 "" }}]', '0 2 x []'],
    // and/or short-circuit: the failing index is never evaluated
    ['{{ or "a" (index . 5) }} [{{ and "" (index . 5) }}]', 'a []'],
    ['{{ "x" | and }} {{ not "" }} {{ not 1 }}', 'x true false'],
    ['{{ eq 1 1 }} {{ eq "a" "b" "a" }} {{ eq 1 2 3 }} {{ ne "a" "b" }}', 'true true false true'],
    ['{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }} {{ lt "a" "B" }}', 'true true true false false'],
    ['{{ eq .NOPE "" }} {{ eq .COUNT "3" }} {{ eq true true }}', 'true true true'],
    ['{{ len "héllo" }} {{ len (split "," "a,b") }} {{ len (loop 7) }}', '6 2 7'],
    [
      '{{ index (split "," "a,b,c") 1 }} {{ index . "NAME" }} [{{ index . "NOPE" }}] {{ index "abc" 0 }}',
      'b Template [] 97',
    ],
    ['{{ index (loop 5) 4 }} {{ index . }}', '4 map[COUNT:3 NAME:Template NAME_1:Template PARTS:a:b:c USER:pilot]'],
    ['{{ slice "hello" 1 3 }} {{ slice (split "," "a,b,c") 1 }} {{ slice "abc" }}', 'el [b c] abc'],
    ['{{ print 1 2 "a" 3 "b" "c" }}|{{ print nil }}|{{ print }}|{{ print 1.5 true }}', '1 2a3bc|<nil>||1.5 true'],
    ['{{ println 1 "a" }}|{{ println }}', '1 a\n|\n'],
    ['{{ html "<a href=\'x\'>&\\"" }}', '&lt;a href=&#39;x&#39;&gt;&amp;&#34;'],
    ['{{ urlquery "a b&c=d/é" }}', 'a+b%26c%3Dd%2F%C3%A9'],
    ['{{ js "a\'b\\"<>&=\\\\" }}', 'a\\\'b\\"\\u003C\\u003E\\u0026\\u003D\\\\'],
  ])('%s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe('printf', () => {
  it.each<Case>([
    ['{{ printf "%s-%d" "a" 5 }}', 'a-5'],
    ['{{ printf "%03d|%-4d|%+d|% d|%5d" 7 7 5 5 -42 }}', '007|7   |+5| 5|  -42'],
    ['{{ printf "%5s|%-5s|%.2s|" "ab" "cd" "hello" }}', '   ab|cd   |he|'],
    ['{{ printf "%q" "a\\"b" }} {{ printf "%q %+q %#q" "é\\n" "é" "a" }}', '"a\\"b" "é\\n" "\\u00e9" `a`'],
    [
      '{{ printf "%v" (split "," "a,b") }} {{ printf "%#v" (split "," "a,b") }} {{ printf "%v" (loop 3) }}',
      '[a b] []string{"a", "b"} [0 1 2]',
    ],
    ['{{ printf "%x %X %o %b %c %U %#x %#o" 255 255 8 5 65 65 255 8 }}', 'ff FF 10 101 A U+0041 0xff 010'],
    ['{{ printf "%c%c %q %#U" 0x1F600 -1 65 0x1F600 }}', "😀\ufffd 'A' U+1F600 '😀'"],
    ['{{ printf "%x" "hi" }} {{ printf "% x" "hi" }}', '6869 68 69'],
    ['{{ printf "%t %5t|%-7v|" true true false }}', 'true  true|false  |'],
    ['{{ printf "%v %v %v" true nil 1.5 }}', 'true <nil> 1.5'],
    [
      '{{ printf "%T %T %T %T %T %T" 1 1.5 "s" true (loop 1) (split "" "") }}',
      'int float64 string bool []int []string',
    ],
    ['{{ printf "%[2]s %[1]s" "a" "b" }} {{ printf "%*d|%-*d|" 5 42 3 7 }}', 'b a    42|7  |'],
    ['{{ printf "%d%%" 50 }} {{ printf "100%%" }}', '50% 100%'],
    // Go's in-band errors
    [
      '{{ printf "%d" "x" }} {{ printf "%s" 5 }} {{ printf "%d" 1.5 }} {{ printf "%t" nil }}',
      '%!d(string=x) %!s(int=5) %!d(float64=1.5) %!t(<nil>)',
    ],
    [
      '{{ printf "%d" }} {{ printf "%d" 1 2 }} {{ printf "%!" }} {{ printf "%" }}',
      '%!d(MISSING) 1%!(EXTRA int=2) %!!(MISSING) %!(NOVERB)',
    ],
    ['{{ printf "%d" (split "," "a,b") }} {{ printf "%[3]d" 1 }}', '[%!d(string=a) %!d(string=b)] %!d(BADINDEX)'],
    // floats: exact decimal expansion, round half to even
    ['{{ printf "%.2f|%8.3f|%e|%g" 3.14159 3.14159 123456.789 0.000001 }}', '3.14|   3.142|1.234568e+05|1e-06'],
    ['{{ printf "%.0f %.0f %.2f %.1f %.1f" 2.5 3.5 0.125 0.05 0.25 }}', '2 4 0.12 0.1 0.2'],
    [
      '{{ printf "%6.2f|%-10.3e|%08.3f|%+.2e" 3.14159 1234.5 -3.14159 12345.678 }}',
      '  3.14|1.234e+03 |-003.142|+1.23e+04',
    ],
    [
      '{{ printf "%g %G %.3g %.10g %g %g" 1e21 1e-7 1234567.0 0.1 100000.0 123456789.0 }}',
      '1e+21 1E-07 1.23e+06 0.1 100000 1.23456789e+08',
    ],
    ['{{ printf "%v %.3v %f %.1f" 1e20 3.14159 1.0 0.96 }}', '1e+20 3.14 1.000000 1.0'],
    ['{{ printf "%5.1f|%-6.1f|%06.1f" 2.25 2.35 -2.5 }}', '  2.2|2.4   |-002.5'],
    ['{{ printf "%d" 9223372036854775807 }} {{ printf "%x" -255 }}', '9223372036854775807 -ff'],
  ])('%s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe('ContainerPilot functions', () => {
  it.each<Case>([
    ['{{ default "d" "" }} {{ default "d" "v" }} {{ 5 | default "d" }}', 'd v d'],
    [
      '{{ default 1.5 .NOPE }} {{ default nil .NOPE }} {{ default true "" }} {{ default 7 .USER }}',
      '1.5 <nil> true pilot',
    ],
    ['{{ env "NAME" }}|{{ env "NOPE" }}|{{ "USER" | env }}', 'Template||pilot'],
    [
      '{{ split "," "" }} {{ split "," "  a,b  " }} {{ split "" "abc" }} {{ split "," " a, b " }}',
      '[] [a b] [a b c] [a  b]',
    ],
    ['{{ split "," "\\u00a0a\\u0085" }} {{ len (split "," "\\ufeffa") }}', '[a] 1'],
    ['{{ join "-" (split "," "a,b,c") }}|{{ join "-" (split "," "") }}', 'a-b-c|'],
    [
      '{{ replaceAll "" "-" "abc" }}|{{ replaceAll "" "-" "" }}|{{ replaceAll "a" "$&" "banana" }}',
      '-a-b-c-|-|b$&n$&n$&',
    ],
    ['{{ loop "-2" }} {{ loop 2 -2 }} {{ loop 3 3 }} {{ loop "+2" }}', '[0 -1] [2 1 0 -1] [] [0 1]'],
    ['{{ range $i := loop .COUNT }}{{ printf "svc-%d " $i }}{{ end }}', 'svc-0 svc-1 svc-2 '],
  ])('%s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });

  describe('regexReplaceAll (Go RE2 semantics)', () => {
    it.each<Case>([
      ['{{ regexReplaceAll "(\\\\w+)@(\\\\w+)" "$2 at $1" "me@host" }}', 'host at me'],
      // $1x names a group "1x", which does not exist; ${1}x is group 1 then "x"
      ['[{{ regexReplaceAll "(a)" "$1x" "a" }}] {{ regexReplaceAll "(a)" "${1}x" "a" }}', '[] ax'],
      [
        '{{ regexReplaceAll "a" "$$" "a" }} {{ regexReplaceAll "a" "${1" "a" }} {{ regexReplaceAll "a" "$" "a" }}',
        '$ ${1 $',
      ],
      ['{{ regexReplaceAll "(?P<first>\\\\w+) (?P<last>\\\\w+)" "${last}, ${first}" "John Smith" }}', 'Smith, John'],
      ['{{ regexReplaceAll "(?<first>\\\\w+) (\\\\w+)" "$2 $first" "John Smith" }}', 'Smith John'],
      // empty matches: Go skips an empty match right after a previous match
      ['{{ regexReplaceAll "a*" "-" "baaac" }}', '-b-c-'],
      ['{{ regexReplaceAll "x*" "-" "abc" }} {{ regexReplaceAll "" "-" "héllo" }}', '-a-b-c- -h-é-l-l-o-'],
      [
        '{{ regexReplaceAll "(?i)HELLO" "bye" "Hello hello" }} {{ regexReplaceAll "(?i)[a-c]+" "X" "ABCabcd" }}',
        'bye bye Xd',
      ],
      // \s is ASCII-only, . excludes only \n
      ['{{ regexReplaceAll "\\\\s" "_" "a b\\u00a0c\\td" }}', 'a_b\u00a0c_d'],
      ['{{ regexReplaceAll "." "x" "a\\rb\\nc" }} {{ regexReplaceAll "(?s)a.b" "X" "a\\nb" }}', 'xxx\nx X'],
      ['{{ regexReplaceAll "^a" "X" "aa\\na" }}|{{ regexReplaceAll "(?m)^a" "X" "aa\\na" }}', 'Xa\na|Xa\nX'],
      ['{{ regexReplaceAll "a$" "X" "a\\na" }}|{{ regexReplaceAll "(?m)a$" "X" "a\\na" }}', 'a\nX|X\nX'],
      [
        '{{ regexReplaceAll "a{,2}" "X" "a{,2}" }} {{ regexReplaceAll "a{2}" "X" "aaaaa" }} {{ regexReplaceAll "a{2,}?" "X" "aaaaa" }}',
        'X XXa XXa',
      ],
      ['{{ regexReplaceAll "\\\\Q.*\\\\E" "X" "a.*b" }} {{ regexReplaceAll "[[:digit:]]+" "#" "a12b3" }}', 'aXb a#b#'],
      [
        '{{ regexReplaceAll "\\\\pL+" "L" "héllo wörld 123" }} {{ regexReplaceAll "\\\\p{Greek}" "G" "aβc" }}',
        'L L 123 aGc',
      ],
      [
        '{{ regexReplaceAll "[^\\\\d\\\\s]" "." "a1 b2" }} {{ regexReplaceAll "\\\\bfoo\\\\b" "X" "foo foobar foo" }}',
        '.1 .2 X foobar X',
      ],
      [
        '{{ regexReplaceAll "[]a]" "X" "]a" }} {{ regexReplaceAll "(?U)a+" "X" "aaa" }} {{ regexReplaceAll "\\\\x{41}\\\\101\\\\x41" "X" "AAA" }}',
        'XX XXX X',
      ],
      [
        '{{ regexReplaceAll "[a-]" "X" "a-b" }} {{ regexReplaceAll "[\\\\[\\\\]]" "" "[x]" }} {{ regexReplaceAll "\\\\." "!" "a.b" }}',
        'XXb x a!b',
      ],
      ['{{ regexReplaceAll "(a)|b" "<$1>" "ab" }}', '<a><>'],
      ['{{ regexReplaceAll "[0-9]+" "N" "v1.22.3" }}', 'vN.N.N'],
      // flags for part of a pattern, as Go has them
      ['{{ regexReplaceAll "a(?i)b" "X" "aB Ab ab" }} {{ regexReplaceAll "(?i:a)b" "X" "Ab AB" }}', 'X Ab X X AB'],
    ])('%s', (template, expected) => {
      expect(render(template)).toBe(expected);
    });

    it.each([
      ['(a)\\\\1', /invalid escape sequence/], // backreferences are not RE2
      ['(?=a)', /invalid or unsupported Perl syntax/],
      ['[z-a]', /invalid character class range/],
      ['(a', /missing closing \)/],
      ['a)', /unexpected \)/],
      ['a**', /invalid nested repetition operator/],
      ['*', /missing argument to repetition operator/],
      ['a{1001}', /invalid repeat count/],
      ['[a', /missing closing \]/],
      ['[[:foo:]]', /invalid character class range/],
      ['\\\\p{NoSuchScript}', /unsupported regular expression|invalid character class/],
      ['\\\\Z', /invalid escape sequence/],
    ])('rejects %s', (pattern, message) => {
      const err = renderError(`{{ regexReplaceAll "${pattern}" "" "aa" }}`);
      expect(err.message).toMatch(/error calling regexReplaceAll/);
      expect(err.message).toMatch(message);
    });
  });
});

describe('errors', () => {
  it.each<[template: string, line: number, column: number, message: RegExp]>([
    ['{{ .A', 1, 1, /unclosed action/],
    ['line1\n  {{ foo }}', 2, 6, /function "foo" not defined/],
    ['a\nb\n{{ if 1 }}\n  {{ len 1 2 }}\n{{ end }}', 4, 6, /wrong number of args for len: want 1 got 2/],
    ['😀{{ foo }}', 1, 5, /function "foo" not defined/],
    ['{{ end }}', 1, 1, /unexpected \{\{end\}\}/],
    ['{{ else }}', 1, 1, /unexpected \{\{else\}\}/],
    ['x\n{{ if true }}x{{ range loop 1 }}', 2, 15, /\{\{range\}\} has no matching \{\{end\}\}/],
    ['{{ if 1 }}{{ else }}{{ else }}{{ end }}', 1, 21, /expected end; found \{\{else\}\}/],
    ['{{ range 1 }}{{ else if 1 }}{{ end }}', 1, 22, /unexpected "if" in input/],
    ['{{ "abc }}', 1, 4, /unterminated quoted string/],
    ['{{ `abc }}', 1, 4, /unterminated raw quoted string/],
    ["{{ 'ab' }}", 1, 4, /malformed character constant/],
    ['{{ "\\q" }}', 1, 4, /invalid syntax in string literal/],
    ['{{ .NAME.B }}', 1, 4, /can't evaluate field B in type string/],
    ['{{ join "," .NAME }}', 1, 13, /wrong type for value; expected \[\]string; got string/],
    ['{{ join "-" (loop 3) }}', 1, 13, /expected \[\]string; got \[\]int/],
    ['{{ join "," "abc" }}', 1, 13, /can't handle "abc" for arg of type \[\]string/],
    ['{{ printf 1 }}', 1, 11, /expected string; found 1/],
    ['{{ env 1 }}', 1, 8, /expected string; found 1/],
    ['{{ nil }}', 1, 4, /nil is not a command/],
    ['{{ not nil }}', 1, 8, /cannot assign nil to reflect.Value/],
    ['{{ 1 | 2 }}', 1, 8, /non executable command in pipeline stage 2/],
    ['{{ .A | .B }}', 1, 9, /B is not a method but has arguments/],
    ['{{ $x := 1 }}{{ $x 2 }}', 1, 17, /can't give argument to non-function \$x/],
    ['{{ "a" "b" }}', 1, 4, /can't give argument to non-function "a"/],
    ['{{ break }}', 1, 4, /\{\{break\}\} outside \{\{range\}\}/],
    ['{{ if 1 }}{{ continue }}{{ end }}', 1, 14, /\{\{continue\}\} outside \{\{range\}\}/],
    ['{{ define "x" }}{{ end }}', 1, 4, /\{\{define\}\} is not supported/],
    ['{{ template "x" }}', 1, 4, /\{\{template\}\} is not supported/],
    ['{{ (1 }}', 1, 7, /unclosed left paren/],
    ['{{ ) }}', 1, 4, /unexpected "\)" in command/],
    ['{{ 1 := 2 }}', 1, 6, /unexpected ":=" in operand/],
    ['{{ $x := }}', 1, 10, /missing value for command/],
    ['{{ }}', 1, 4, /missing value for command/],
    ['{{ if }}{{ end }}', 1, 7, /missing value for if/],
    ['{{ range $i, $v, $w := . }}{{end}}', 1, 14, /too many declarations in range/],
    ['{{ $x }}', 1, 4, /undefined variable "\$x"/],
    ['{{ range $i := loop 3 }}{{ end }}{{ $i }}', 1, 37, /undefined variable "\$i"/],
    ['{{ $x = 1 }}', 1, 4, /undefined variable: \$x/],
    ['{{/* unclosed', 1, 1, /unclosed comment/],
    ['{{/* c */ }}', 1, 10, /comment ends before closing delimiter/],
    ['{{ /* c */ }}', 1, 4, /unexpected "\/" in command/],
    ['{{ 1i }}', 1, 4, /complex number 1i is not supported/],
    ['{{ 9223372036854775808 }}', 1, 4, /overflows int/],
    ['{{ 08 }}', 1, 4, /integer overflow/],
    ['{{ 3.x }}', 1, 4, /bad number syntax: "3.x"/],
    ['{{ .A@ }}', 1, 6, /bad character U\+0040 '@'/],
    ['{{ € }}', 1, 4, /unrecognized character in action: U\+20AC/],
    ['{{ .A-}}', 1, 6, /bad character U\+002D '-'/],
    ['{{ len }}', 1, 4, /wrong number of args for len: want 1 got 0/],
    ['{{ printf }}', 1, 4, /wrong number of args for printf: want at least 1 got 0/],
    ['{{ default "a" }}', 1, 4, /wrong number of args for default: want 2 got 1/],
    ['{{ eq 1 }}', 1, 4, /missing argument for comparison/],
    ['{{ eq 1 1.0 }}', 1, 4, /incompatible types for comparison/],
    ['{{ lt true false }}', 1, 4, /invalid type for comparison/],
    ['{{ eq (loop 1) (loop 1) }}', 1, 4, /non-comparable/],
    ['{{ len 3 }}', 1, 4, /error calling len: len of type int/],
    ['{{ index (loop 3) 5 }}', 1, 4, /index out of range: 5/],
    ['{{ index 1 1 }}', 1, 4, /can't index item of type int/],
    ['{{ index . 1 }}', 1, 4, /value has type int; should be string/],
    ['{{ range "abc" }}{{ end }}', 1, 10, /range can't iterate over abc/],
    ['{{ range $i, $v := 3 }}{{ end }}', 1, 10, /can't use 3 to iterate over more than one variable/],
    ['{{ loop }}', 1, 4, /loop: wrong number of arguments, expected 1 or 2, but got 0/],
    ['{{ loop 1 2 3 }}', 1, 4, /but got 3/],
    ['{{ loop 1.5 }}', 1, 4, /interface \{\} is float64, not int/],
    ['{{ loop "x" }}', 1, 4, /strconv.Atoi: parsing "x": invalid syntax/],
    ['{{ loop .NOPE }}', 1, 4, /strconv.Atoi: parsing "": invalid syntax/],
    ['{{ call .NAME }}', 1, 4, /non-function of type string/],
  ])('%j fails at %i:%i', (template, line, column, message) => {
    const err = renderError(template);
    expect(err.message).toMatch(message);
    expect(err.reason).toMatch(message);
    expect([err.line, err.column]).toEqual([line, column]);
    expect(err.message.startsWith(`conf.json5:${line}:${column}: `)).toBe(true);
    expect(err.fileName).toBe('conf.json5');
    expect(err.name).toBe('TemplateError');
    expect(err).toBeInstanceOf(Error);
  });

  it('defaults the file name in messages', () => {
    expect(() => renderTemplate('{{ nope }}', {})).toThrow(/^template:1:4: function "nope" not defined$/);
  });

  it('prefers the first error in the text, as Go does', () => {
    // a parse error before a lexical error later in the file
    expect(renderError('{{ foo }} {{ "unterminated }}').message).toMatch(/function "foo" not defined/);
  });

  it('does not execute anything when parsing fails', () => {
    expect(renderError('{{ loop 5 }}{{ end }}').message).toMatch(/unexpected \{\{end\}\}/);
  });
});

describe('resource limits', () => {
  it('caps the number of elements loop produces', () => {
    expect(renderError('{{ loop 100000000 }}').message).toMatch(/loop: 100000000 iterations is more than the limit/);
  });

  it('stops runaway nested loops', () => {
    const template = '{{ range loop 1000 }}{{ range loop 1000 }}{{ range loop 1000 }}{{ end }}{{ end }}{{ end }}';
    // All the loops of a render share one budget of items (each is allocated), so the inner ones run out first.
    expect(renderError(template).message).toMatch(
      /loop: 1000 iterations is more than the limit of 1000000 for all loops of a template together/,
    );
    const steps = '{{ range loop 1000 }}{{ range loop 999 }}{{ 1 }}{{ 1 }}{{ 1 }}{{ 1 }}{{ 1 }}{{ end }}{{ end }}';
    expect(renderError(steps).message).toMatch(/exceeded \d+ steps/);
  });

  it('stops ranging over a huge int', () => {
    expect(renderError('{{ range 100000000000 }}{{ end }}').message).toMatch(/exceeded \d+ steps/);
  });

  it('limits nesting depth', () => {
    const parens = `{{ ${'('.repeat(500)}1${')'.repeat(500)} }}`;
    expect(renderError(parens).message).toMatch(/nesting is too deep/);
    const blocks = `${'{{ if 1 }}'.repeat(500)}x${'{{ end }}'.repeat(500)}`;
    expect(renderError(blocks).message).toMatch(/nesting is too deep/);
  });

  it('allows long else-if chains (they do not nest)', () => {
    const chain = `{{ if 0 }}${'{{ else if 0 }}'.repeat(2000)}{{ else }}last{{ end }}`;
    expect(render(chain)).toBe('last');
  });

  it('caps string growth and output size', () => {
    const doubling = `{{ $x := "ab" }}${'{{ $x = printf "%s%s" $x $x }}'.repeat(40)}`;
    expect(renderError(doubling).message).toMatch(/printf produced a string longer than/);
    const big = '{{ $x := printf "%0999999d" 1 }}{{ range loop 100 }}{{ $x }}{{ end }}';
    expect(renderError(big).message).toMatch(/rendered output is larger than/);
  });
});

describe('property: any input renders or fails with a TemplateError', () => {
  /** Either a string, or a TemplateError with a sane location and no internal failure. */
  function check(template: string): void {
    let result: unknown;
    try {
      result = renderTemplate(template, { A: 'a,b', B: '3' }, 'fuzz.json5');
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      const err = e as TemplateError;
      expect(Number.isInteger(err.line) && err.line >= 1).toBe(true);
      expect(Number.isInteger(err.column) && err.column >= 1).toBe(true);
      expect(err.message).not.toMatch(/internal error/);
      return;
    }
    expect(typeof result).toBe('string');
  }

  const fragments = [
    '{{',
    '}}',
    '{{-',
    '-}}',
    '{{ ',
    ' }}',
    ' ',
    '-',
    '\n',
    '\t',
    'range',
    'if',
    'else',
    'end',
    'with',
    'break',
    'continue',
    'define',
    'template',
    '$x',
    '$',
    '$i, $v :=',
    ':=',
    '=',
    '|',
    '"',
    '`',
    "'",
    '.',
    '.A',
    '.B',
    '$.A',
    '(',
    ')',
    ',',
    'loop',
    '3',
    '-2',
    '1.5',
    '0x',
    '1e',
    '1i',
    'nil',
    'true',
    'printf',
    '"%d"',
    '"%v %s"',
    '"%5.2f"',
    'eq',
    'ne',
    'lt',
    'and',
    'or',
    'not',
    'len',
    'index',
    'slice',
    'print',
    'println',
    'html',
    'js',
    'urlquery',
    'call',
    'split',
    'join',
    'default',
    'env',
    'replaceAll',
    'regexReplaceAll',
    '"[a-"',
    '"(a)*"',
    '"$1"',
    '"(?i)x"',
    '","',
    '/*',
    '*/',
    '\\',
    '{',
    '}',
    '€',
    '😀',
    'x',
  ];
  const actions = [
    'range $i := loop 3',
    'range $i, $v := split "," .A',
    'range .',
    'range 2',
    'if .A',
    'if eq $i 1',
    'with .B',
    'else',
    'else if .B',
    'else with .A',
    'end',
    'break',
    'continue',
    '$x := 1',
    '$x = 2',
    '$x',
    '$i',
    '$v',
    '.',
    '.A',
    '$.A',
    'printf "%d %s %v %5.2f %q" 1 "a" . 1.5 "x"',
    'len .',
    'index . "A"',
    'index (split "," .A) 1',
    'slice .A 1',
    'loop 3 0',
    '.A | split "," | join "-"',
    'regexReplaceAll "(a)|b" "<$1>" .A',
    'default "z" .Q',
    'and .A .Q',
    'or .Q 0',
    'not .A',
    'print 1 2 "x"',
    'println .',
    'eq .B "3" "4"',
    'lt 1 2',
    'html "<a>"',
    'urlquery "a b"',
    '(len .A)',
    '1.5e3',
    "'x'",
    '`raw`',
    'nil',
    'env "A"',
    'replaceAll "," ";" .A',
    '.A.B',
    'len 1',
    'call .A',
  ];

  it('for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 })), (s) => {
        check(s);
        check(`{{ ${s} }}`);
      }),
      { numRuns: 1500 },
    );
  });

  it('for strings built from template fragments', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 30 }), (parts) => check(parts.join(''))),
      { numRuns: 3000 },
    );
  });

  it('for sequences of plausible actions', () => {
    const action = fc.tuple(
      fc.constantFrom(...actions),
      fc.constantFrom('{{ ', '{{- ', '{{'),
      fc.constantFrom(' }}', ' -}}', '}}'),
      fc.constantFrom('', ' ', '\n  ', 'x'),
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 14 }), (items) =>
        check(items.map(([a, open, close, text]) => `${text}${open}${a}${close}`).join('')),
      ),
      { numRuns: 3000 },
    );
  });
});
