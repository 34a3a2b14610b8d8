import { expect } from 'chai';
import { failureOf, parseInfoPid, parseProcessList, parseServerStats, RuntimeAnswerError } from '../../../../runtime/haproxy/core/answers.js';

// The columns HAProxy 2.6.12 prints, cut after the ones read; rows as it printed them for one backend with two servers.
const header =
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,';
const csv = [
  header,
  'be_a,s1,0,0,3,4,,12,146,218,,0,,1,2,0,0,UP,10,1,0,0,0,6,0,,1,3,1,,2,,2,2,,2,L4OK,,0,0,7,0,0,5,0,,,,12,0,0,,,,,0,,,0,0,4,4,,,,Layer4 check passed,,2,3,4,,,,127.0.0.1:19101,',
  'be_a,s2,0,0,0,1,,2,146,218,,0,,,,1,2,DRAIN,0,1,0,0,0,1,0,,1,3,2,,2,,2,2,,2,L4OK,,0,0,2,0,0,0,0,,,,2,0,0,,,,,0,,,0,0,0,0,,,,Layer4 check passed,,2,3,4,,,,127.0.0.1:19102,',
  '',
].join('\n');

describe('parseServerStats', () => {
  it('reads each server\'s counters, an empty one as 0; connection errors include retries and redispatches', () => {
    expect(parseServerStats(csv)).to.deep.equal([
      { backend: 'be_a', server: 's1', address: '127.0.0.1:19101', status: 'UP', weight: 10, currentSessions: 3, requests: 12, responses5xx: 5, connectionErrors: 1, responseErrors: 2 },
      { backend: 'be_a', server: 's2', address: '127.0.0.1:19102', status: 'DRAIN', weight: 0, currentSessions: 0, requests: 2, responses5xx: 0, connectionErrors: 3, responseErrors: 0 },
    ]);
  });

  it('skips frontend and backend rows', () => {
    const frontend = 'fe_1,FRONTEND,,,0,1,9979,5,363,532,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,5,0,5,,,,0,4,0,0,1,0,,5,5,5,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,';
    expect(parseServerStats(`${header}\n${frontend}\n`)).to.deep.equal([]);
  });

  it('refuses an answer that is not the CSV', () => {
    expect(() => parseServerStats('Unknown command.\n')).to.throw(RuntimeAnswerError, /no CSV header/);
    expect(() => parseServerStats('# pxname,svname\n')).to.throw(RuntimeAnswerError, /no column type/);
  });
});

describe('parseProcessList', () => {
  it('reads the master, its reloads and its current and old workers', () => {
    const text = [
      '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
      '24791           master          2 [failed: 1]   0d00h00m23s     2.6.12-1+deb12u4',
      '# workers',
      '28039           worker          0               0d00h00m01s     2.6.12-1+deb12u4',
      '# old workers',
      '28007           worker          1               0d00h00m05s     2.6.12-1+deb12u4',
      '# programs',
      '',
    ].join('\n');
    expect(parseProcessList(text)).to.deep.equal({ masterPid: 24791, reloads: 2, failedReloads: 1, workers: [28039], oldWorkers: [28007] });
  });

  it('refuses text without a master line', () => {
    expect(() => parseProcessList('Unknown command.')).to.throw(RuntimeAnswerError, /no master line/);
  });
});

describe('parseInfoPid', () => {
  it('reads the Pid line of show info', () => expect(parseInfoPid('Name: HAProxy\nProcess_num: 1\nPid: 28007\nUptime: 0d\n')).to.equal(28007));
  it('refuses an answer without one', () => expect(() => parseInfoPid('Permission denied\n')).to.throw(RuntimeAnswerError, /no Pid line/));
});

describe('failureOf', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['set server be/s weight 5', '\n', undefined],
    ['set server be/s weight 300', 'Absolute weight can only be between 0 and 256 inclusive.\n\n', 'Absolute weight can only be between 0 and 256 inclusive.'],
    ['enable server be/x', 'No such server.\n\n', 'No such server.'],
    ['add server be/s 127.0.0.1:1', 'New server registered.\n\n', undefined],
    ['add server be/s 127.0.0.1:1', 'Already exists a server with the same name in backend.\n\n', 'Already exists a server with the same name in backend.'],
    ['add server be/s 127.0.0.1:1', '', 'no answer'],
    ['del server be/s', 'Server deleted.\n\n', undefined],
    ['del server be/s', 'Server still has connections attached to it, cannot remove it.\n', 'Server still has connections attached to it, cannot remove it.'],
  ];
  for (const [command, answer, failure] of cases) {
    it(`${command} answered ${JSON.stringify(answer.trim())}`, () => expect(failureOf(command, answer)).to.equal(failure));
  }
});
