import json,sys
r=json.load(open(sys.argv[1]))
for c in r['cases']:
  print(c['id'],c['outcome'],(c.get('reason') or '')[:200])
  for k in c['checks']:
    if 'cgroup' in k['name'] or 'memory' in k['name'] or not k['ok'] or 'remount' in k['name']: print('  ',('ok ' if k['ok'] else 'BAD'),k['name'][:260], '' if k['ok'] else k.get('seen',''))
  for f in c.get('findings',[]): print('   F',f[:260])
