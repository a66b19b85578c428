#!/usr/bin/python3
"""server_selftest.py: checks tests/gcp/vertex_server.py on what gcloud_xcheck.sh
does not reach: traffic splits, undeploy rules, faults and pending operations,
custom job states and their GCS output, GCS uploads/listing, Cloud Logging
filters. Prints ok/not ok lines; exit 1 on a failure. Debian python3 +
python3-cryptography; about 2 s."""
import json, subprocess, sys, time, os, urllib.request, urllib.error, base64
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
import tempfile, shutil
W=tempfile.mkdtemp(prefix="lep-vsrv-")
atexit_rm=lambda: shutil.rmtree(W, True)
HERE=os.path.dirname(os.path.abspath(__file__))
k=rsa.generate_private_key(65537,2048)
pem=k.private_bytes(serialization.Encoding.PEM,serialization.PrivateFormat.PKCS8,serialization.NoEncryption()).decode()
json.dump({"private_key":pem,"client_email":"a@p.iam.gserviceaccount.com"},open(W+"/sa.json","w"))
if os.path.exists(W+"/port"): os.remove(W+"/port")
p=subprocess.Popen(["/usr/bin/python3",os.path.join(HERE,"vertex_server.py"),"--port-file",W+"/port","--key",W+"/sa.json","--log",W+"/log.jsonl"])
import atexit; atexit.register(atexit_rm); atexit.register(p.terminate)
while not os.path.exists(W+"/port"): time.sleep(0.05)
B="http://127.0.0.1:%s"%open(W+"/port").read().strip()
def e(b): return base64.urlsafe_b64encode(b).decode().rstrip("=")
now=int(time.time())
h=e(b'{"alg":"RS256","typ":"JWT"}'); c=e(json.dumps({"iss":"a@p.iam.gserviceaccount.com","aud":"https://oauth2.googleapis.com/token","iat":now,"exp":now+3600,"scope":"x"}).encode())
s=e(k.sign((h+"."+c).encode(),padding.PKCS1v15(),hashes.SHA256()))
def req(m,path,body=None,raw=None,hdr=None,auth=True):
    hd=dict(hdr or {})
    data=raw
    if body is not None: data=json.dumps(body).encode(); hd["Content-Type"]="application/json"
    if auth: hd["Authorization"]="Bearer "+TOK
    r=urllib.request.Request(path if path.startswith("http") else B+path,data=data,method=m,headers=hd)
    try:
        x=urllib.request.urlopen(r); return x.status, x.read(), x.headers
    except urllib.error.HTTPError as er:
        return er.code, er.read(), er.headers
TOK=""
st,b,_=req("POST","/token",raw=("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="+h+"."+c+"."+s).encode(),hdr={"Content-Type":"application/x-www-form-urlencoded"},auth=False)
TOK=json.loads(b)["access_token"]
def J(m,path,body=None,**kw):
    st,b,hd=req(m,path,body,**kw)
    try: return st,json.loads(b)
    except: return st,b
FAILED=[]
def check(name,cond,extra=""):
    if not cond: FAILED.append(name)
    print(("ok - " if cond else "not ok - ")+name, "" if cond else extra)
P="/v1/projects/p1/locations/europe-west4"
st,op=J("POST",P+"/models:upload?alt=json",{"model":{"displayName":"m","containerSpec":{"imageUri":"i","ports":[{"containerPort":7080}]}}})
mid=op["response"]["model"].rsplit("/",1)[1]; check("upload",st==200 and op["done"],op)
st,op=J("POST",P+"/endpoints?endpointId=myep",{"displayName":"e"}); check("create ep id", op["response"]["name"].endswith("/endpoints/myep"),op)
E=P+"/endpoints/myep"
st,r=J("POST",E+":predict",{"instances":[1]}); check("predict no model 400 FP", st==400 and r["error"]["status"]=="FAILED_PRECONDITION", r)
dm={"model":"projects/p1/locations/europe-west4/models/"+mid,"dedicatedResources":{"machineSpec":{"machineType":"g2-standard-8","acceleratorType":"NVIDIA_L4","acceleratorCount":1},"minReplicaCount":1}}
st,op=J("POST",E+":deployModel",{"deployedModel":dm}); d1=op["response"]["deployedModel"]["id"]; check("deploy1",st==200,op)
st,r=J("POST",E+":deployModel",{"deployedModel":dict(dm,dedicatedResources={"machineSpec":{"machineType":"x","acceleratorCount":1},"minReplicaCount":1})}); check("count without type",st==400,r)
st,r=J("POST",E+":deployModel",{"deployedModel":dict(dm,dedicatedResources={"machineSpec":{"machineType":"x"},"minReplicaCount":0})}); check("min 0",st==400,r)
st,op=J("POST",E+":deployModel",{"deployedModel":dm,"trafficSplit":{"0":30,d1:70}}); d2=op["response"]["deployedModel"]["id"]; check("deploy2 split",st==200,op)
st,ep=J("GET",E); check("split", ep["trafficSplit"]=={d1:70,d2:30}, ep)
st,r=J("POST",E+":deployModel",{"deployedModel":dm,"trafficSplit":{"0":30,d1:60}}); check("split sum",st==400,r)
st,r=J("POST",E+":predict",{"instances":[1,2]}); check("predict",st==200 and len(r["predictions"])==2 and r["deployedModelId"] in (d1,d2),r)
st,r=J("POST",E+":rawPredict",raw=b'{"instances":[7]}',hdr={"Content-Type":"application/json"}); check("rawPredict",st==200 and r["predictions"][0]["instance"]==7,r)
st,r=J("POST",E+":undeployModel",{"deployedModelId":d1}); check("undeploy with traffic refused",st==400 and r["error"]["status"]=="FAILED_PRECONDITION",r)
st,r=J("PATCH",E+"?updateMask=trafficSplit",{"trafficSplit":{d2:100}}); check("patch split",st==200 and r["trafficSplit"]=={d2:100},r)
st,r=J("POST",E+":predict",{"instances":[1]}); check("predict deterministic",r["deployedModelId"]==d2,r)
st,r=J("DELETE",P+"/models/"+mid); check("delete deployed model refused",st==400 and r["error"]["status"]=="FAILED_PRECONDITION",r)
st,r=J("DELETE",E); check("delete ep w/ models refused",st==400,r)
st,r=J("POST",E+":undeployModel",{"deployedModelId":d1}); check("undeploy d1",st==200 and r["done"],r)
st,r=J("POST",E+":undeployModel",{"deployedModelId":d2}); check("undeploy last",st==200,r)
st,r=J("GET",E); check("empty", r["deployedModels"]==[] and r["trafficSplit"]=={}, r)
# faults
st,r=J("POST","/_control",{"faults":[{"method":"POST","path":":deployModel","status":503,"count":1,"retry_after":1},{"method":"POST","path":":deployModel","op_error":{"code":8,"message":"The zone does not have enough resources available to fulfill the request."},"count":1}]},auth=False)
s3,b,hd=req("POST",E+":deployModel",{"deployedModel":dm}); check("503 fault", s3==503 and hd["Retry-After"]=="1", b)
st,r=J("POST",E+":deployModel",{"deployedModel":dm}); check("op error", r["done"] and r["error"]["code"]==8, r)
st,r=J("GET",E); check("op error no effect", r["deployedModels"]==[], r)
J("POST","/_control",{"pending":2},auth=False)
st,op=J("POST",E+":deployModel",{"deployedModel":dm}); check("pending", not op["done"], op)
oid=op["name"].rsplit("/",1)[1]
st,o1=J("GET","/v1beta1/projects/p1/locations/europe-west4/operations/"+oid); st,o2=J("GET",P+"/operations/"+oid)
check("pending done after 2", (not o1["done"]) and o2["done"] and "response" in o2, (o1,o2))
J("POST","/_control",{"pending":0,"job_seconds":[0.3,0.3]},auth=False)
# GCS
st,r=J("POST","/storage/v1/b?project=p1",{"name":"bkt","location":"EU"}); check("bucket",st==200,r)
st,r=J("POST","/storage/v1/b?project=p1",{"name":"bkt"}); check("bucket 409",st==409,r)
st,r=J("GET","/storage/v1/b/nob"); check("bucket 404",st==404 and "errors" in r["error"],r)
# job
job={"displayName":"j","jobSpec":{"workerPoolSpecs":[{"machineSpec":{"machineType":"n1"},"replicaCount":"1","containerSpec":{"imageUri":"i","args":["--epochs","2"],"env":[{"name":"A","value":"1"}]}}],"baseOutputDirectory":{"outputUriPrefix":"gs://bkt/out"}}}
st,j=J("POST",P+"/customJobs",job); check("job create",st==200 and j["state"]=="JOB_STATE_PENDING",j)
jid=j["name"].rsplit("/",1)[1]
time.sleep(0.35); st,j=J("GET",P+"/customJobs/"+jid); check("running",j["state"]=="JOB_STATE_RUNNING",j)
time.sleep(0.35); st,j=J("GET",P+"/customJobs/"+jid); check("succeeded",j["state"]=="JOB_STATE_SUCCEEDED",j)
st,r=J("GET","/storage/v1/b/bkt/o/out%2Fmodel%2Fmodel.json?alt=media"); check("model.json", r.get("trained_by")==j["name"] and r["env"]==["A"], r)
st,j2=J("POST",P+"/customJobs",job); j2id=j2["name"].rsplit("/",1)[1]
st,r=J("POST",P+"/customJobs/"+j2id+":cancel",{}); check("cancel",st==200 and r=={},r)
st,r=J("GET","/_control/state",auth=False); check("cancelling",[x["state"] for x in r["jobs"] if x["name"].endswith("/"+j2id)]==["JOB_STATE_CANCELLING"],r)
st,r=J("GET",P+"/customJobs/"+j2id); check("cancelled",r["state"]=="JOB_STATE_CANCELLED",r)
J("POST","/_control",{"job_fail":"boom"},auth=False)
st,j3=J("POST",P+"/customJobs",job); j3id=j3["name"].rsplit("/",1)[1]; time.sleep(0.7)
st,r=J("GET",P+"/customJobs/"+j3id); check("failed",r["state"]=="JOB_STATE_FAILED" and r["error"]["code"]==3,r)
st,r=J("GET",P+"/customJobs"); check("list",len(r["customJobs"])==3,r)
# uploads
st,r=J("POST","/upload/storage/v1/b/bkt/o?uploadType=media&name=a/b.txt",raw=b"hello",hdr={"Content-Type":"text/plain"}); check("media",st==200 and r["size"]=="5",r)
s,b,hd=req("POST","/upload/storage/v1/b/bkt/o?uploadType=resumable&name=big.bin",{"contentType":"application/x-foo"}); loc=hd["Location"]; check("resumable start",s==200 and loc,hd)
s,b,hd=req("PUT",loc,raw=b"0123",hdr={"Content-Range":"bytes 0-3/10"}); check("308",s==308 and hd["Range"]=="bytes=0-3",(s,b))
s,b,hd=req("PUT",loc,raw=b"",hdr={"Content-Range":"bytes */10"}); check("status",s==308 and hd["Range"]=="bytes=0-3",(s,b))
s,b,hd=req("PUT",loc,raw=b"456789",hdr={"Content-Range":"bytes 4-9/10"}); check("final",s==200 and json.loads(b)["size"]=="10",(s,b))
st,r=J("GET","/download/storage/v1/b/bkt/o/big.bin?alt=media"); check("download",r==b"0123456789",r)
J("POST","/_control",{"page_size":2},auth=False)
names=[];tokq=""
while True:
    st,r=J("GET","/storage/v1/b/bkt/o?prefix="+tokq); names+= [i["name"] for i in r.get("items",[])]
    if "nextPageToken" not in r: break
    tokq="&pageToken="+r["nextPageToken"]
check("paginated list",names==["a/b.txt","big.bin","out/model/model.json"],names)
st,r=J("DELETE","/storage/v1/b/bkt/o/big.bin"); check("delete",st==204,r)
st,r=J("DELETE","/storage/v1/b/bkt/o/big.bin"); check("delete 404",st==404 and "No such object: bkt/big.bin" in r["error"]["message"],r)
# logging
J("POST","/_control",{"page_size":None},auth=False)
st,r=J("POST","/v2/entries:list",{"resourceNames":["projects/p1"],"filter":'resource.type="ml_job" AND resource.labels.job_id="%s"'%jid}); check("job logs",[e["textPayload"] for e in r["entries"]]==["job started",'args: ["--epochs", "2"]',"job succeeded"],r)
st,r=J("POST","/v2/entries:list",{"resourceNames":["projects/p1"],"filter":'resource.type="aiplatform.googleapis.com/Endpoint" AND resource.labels.deployed_model_id="%s"'%d1}); check("ep logs",r["entries"][0]["textPayload"]=="model m serving on 7080",r)
st,r=J("POST","/v2/entries:list",{"resourceNames":["projects/p1"],"filter":'timestamp>"2099-01-01T00:00:00Z"'}); check("ts filter",r["entries"]==[],r)
st,r=J("POST","/v2/entries:list",{"resourceNames":["projects/p1"],"filter":'severity>=ERROR'}); check("bad filter 400",st==400,r)
st,r=J("POST","/v2/entries:list",{"resourceNames":["projects/p1"],"pageSize":2}); check("log paging","nextPageToken" in r,r)
st,r=J("GET","/nothing"); check("404 json",st==404 and r["error"]["status"]=="NOT_FOUND",r)
st,r=J("GET","/_control/log",auth=False); check("log no auth hdr","Bearer" not in json.dumps(r) and r[0]["path"]=="/token",r[:2])
st,r=J("GET","/_control/state",auth=False); check("state",set(r)>={"models","endpoints","jobs","buckets"},r)
p.terminate()
sys.exit(1 if FAILED else 0)
